"""The compiled kernels against PyTorch in float64: ``F.conv2d``/``F.conv1d`` on an
explicitly ``F.pad``-ded input (so asymmetric padding is expressible), and
``torch.ops.aten.convolution_backward`` for the three gradients, cropping grad_input
back from the padded input. Padding strings are resolved here from their definition
(not by convbp._args), and the split of an odd 'same' total is anchored to PyTorch's
own ``padding="same"``. Errors are measured relative to sum|terms|, computed by
PyTorch on absolute values, so the oracle here is wholly independent of convbp."""

from __future__ import annotations

import math

import numpy as np
import pytest

import convbp
from convbp import _check
from convbp._check import Case

from test_conv1d import GRID as GRID_1D
from test_conv2d import GRID as GRID_2D
from test_nonfinite import CASES as NONFINITE_CASES, poisoned_inputs
from conftest import record_error

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny problems: one PyTorch thread, so its OpenMP pool does not spin against
    convbp's on the same cores (two libgomp pools are loaded; DESIGN.md, Threads)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _axis_pads(mode, n, k, s, d):
    """(before, after) on one axis of size n, kernel k, stride s, dilation d."""
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (d * (k - 1), d * (k - 1))
    out = math.ceil(n / s)                       # 'same': ceil(n / stride) outputs
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    lo, hi = total // 2, total - total // 2
    return (hi, lo) if mode == "same_lower" else (lo, hi)


def _geometry(case: Case):
    """Per spatial axis: (stride, dilation, (before, after)), from the public arguments."""
    nd = case.dims
    tup = lambda v: (v,) * nd if isinstance(v, int) else tuple(v)
    stride, dil = tup(case.stride), tup(case.dilation)
    sizes, kernel = case.x_shape[2:], case.w_shape[2:]
    if isinstance(case.padding, str):
        pads = [_axis_pads(case.padding, n, k, s, d) for n, k, s, d in zip(sizes, kernel, stride, dil)]
    elif isinstance(case.padding, int):
        pads = [(case.padding, case.padding)] * nd
    elif len(case.padding) == 2 * nd and nd == 2:
        pads = [tuple(case.padding[:2]), tuple(case.padding[2:])]
    elif nd == 2:
        pads = [(case.padding[0],) * 2, (case.padding[1],) * 2]
    else:
        pads = [tuple(case.padding)]
    return stride, dil, pads


def _torch_passes(case: Case, d: dict) -> dict:
    """PyTorch float64 fwd, bwd_data, bwd_weight and bias of ``case`` on ``d``."""
    stride, dil, pads = _geometry(case)
    flat = [v for before_after in reversed(pads) for v in before_after]  # F.pad: last axis first
    t = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)) for k, v in d.items()}
    xp = F.pad(t["x"], flat)
    conv = F.conv2d if case.dims == 2 else F.conv1d
    y = conv(xp, t["w"], t["b"], stride=stride, padding=0, dilation=dil, groups=case.groups)
    zeros = [0] * case.dims
    gx, gw, gb = torch.ops.aten.convolution_backward(
        t["dy"], xp, t["w"], [t["w"].shape[0]], list(stride), zeros, list(dil), False, zeros, case.groups,
        [True, True, True])
    crop = (slice(None), slice(None)) + tuple(slice(b, b + n) for (b, _), n in zip(pads, case.x_shape[2:]))
    return {"fwd": y.numpy(), "bwd_data": gx[crop].numpy(), "bwd_weight": gw.numpy(), "bias": gb.numpy()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", GRID_2D + GRID_1D, ids=lambda c: c.name)
def test_all_passes_match_torch(case, dtype):
    d = _check.make_inputs(case, dtype, seed=7)
    want = _torch_passes(case, d)
    mag = _torch_passes(case, {k: np.abs(v) for k, v in d.items()})
    for pass_ in _check.PASSES:
        got = _check.run_api(case, pass_, d)
        assert got.shape == want[pass_].shape, (pass_, got.shape, want[pass_].shape)
        err = _check.rel_error(got, want[pass_], mag[pass_])
        record_error(dtype, pass_, err, f"vs torch {case.describe()}")
        # PyTorch's float64 rounding counts once more, hence the extra float64 gamma
        tol = _check.tolerance(dtype, _check.n_terms(case, pass_)) + _check.tolerance("float64", _check.n_terms(case, pass_))
        assert err <= tol, f"{pass_}: rel err {err:.3e} > {tol:.3e}"


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("H,W,R,S,dh,dw", [(9, 8, 4, 2, 1, 1), (7, 10, 3, 4, 2, 3), (5, 5, 2, 2, 1, 1),
                                            (6, 11, 5, 6, 1, 2)])
def test_same_matches_torch_padding_same(H, W, R, S, dh, dw):
    """PyTorch's padding='same' (stride 1) puts the extra row/column of an odd total at
    the bottom/right, as convbp's 'same' is documented to."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, H, W)), rng.standard_normal((4, 3, R, S))
    want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same", dilation=(dh, dw)).numpy()
    got = convbp.conv2d(x, w, padding="same", dilation=(dh, dw))
    assert got.shape == want.shape == (2, 4, H, W)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # and 'same_lower' is the mirror image: flip the input and kernel, flip the result
    lower = convbp.conv2d(x[:, :, ::-1, ::-1], w[:, :, ::-1, ::-1], padding="same_lower", dilation=(dh, dw))
    np.testing.assert_allclose(lower[:, :, ::-1, ::-1], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("L,S,s,d", [(9, 4, 2, 1), (10, 3, 3, 2), (7, 2, 5, 1)])
def test_same_output_length_is_ceil_over_stride(L, S, s, d):
    x, w = np.ones((1, 1, L)), np.ones((1, 1, S))
    for mode in ("same", "same_lower"):
        assert convbp.conv1d(x, w, stride=s, padding=mode, dilation=d).shape == (1, 1, math.ceil(L / s))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pass_", _check.PASSES)
@pytest.mark.parametrize("case", NONFINITE_CASES, ids=lambda c: c.name)
def test_nan_and_inf_where_torch_has_them(case, pass_, dtype):
    """The NaN / +Inf / -Inf pattern of every pass is PyTorch's (inputs as in
    test_nonfinite: non-finite values in x or grad_output, one exact zero in the other)."""
    d = poisoned_inputs(case, pass_, dtype)
    got = _check.run_api(case, pass_, d)
    want = _torch_passes(case, d)[pass_]
    for f in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(f(got), f(want), err_msg=f.__name__)
    assert np.any(~np.isfinite(want)) and np.any(np.isfinite(want))


def test_cpu_tensors_are_accepted_as_arrays():
    """Array-likes go through np.asarray: CPU tensors give the ndarray result."""
    case = GRID_2D[0]
    d = _check.make_inputs(case, "float32")
    t = {k: torch.from_numpy(v) for k, v in d.items()}
    got = convbp.conv2d(t["x"], t["w"], t["b"], **case.conv)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, convbp.conv2d(d["x"], d["w"], d["b"], **case.conv))
    gi, gw, gb = convbp.conv2d_backward(t["x"], t["w"], t["dy"], **case.conv)
    np.testing.assert_array_equal(gw, convbp.conv2d_backward_weight(d["x"], d["dy"], case.w_shape, **case.conv))
