"""Every pass of the compiled conv1d kernels against the float64 reference, and conv1d
against conv2d on the same data laid out as (N, C, 1, L)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import convbp
from convbp import _check
from convbp._check import Case

from conftest import ALGOS, record_error

GRID = [c for c in _check.CASES if c.dims == 1] + [
    Case("1d-basic", (2, 3, 17), (4, 3, 3), padding=1),
    Case("1d-prime", (3, 5, 13), (7, 5, 5), stride=2),
    Case("1d-stride>kernel-pad>kernel", (1, 2, 5), (2, 2, 2), stride=6, padding=(7, 2), dilation=3),
    Case("1d-same_lower-s3-odd", (2, 2, 10), (3, 2, 4), stride=3, padding="same_lower"),
    Case("1d-same-s2-even", (2, 2, 9), (3, 2, 3), stride=2, padding="same"),
    Case("1d-same-s2-odd", (2, 2, 9), (3, 2, 4), stride=2, padding="same"),
    Case("1d-valid-s2", (2, 3, 12), (4, 3, 3), stride=2, padding="valid"),
    Case("1d-full-dilated-s2", (1, 2, 5), (2, 2, 3), stride=2, padding="full", dilation=3),
    Case("1d-1x1", (2, 6, 9), (3, 6, 1)),
    Case("1d-kernel=input", (2, 2, 6), (3, 2, 6)),
    Case("1d-depthwise", (2, 3, 16), (3, 1, 5), padding=2, groups=3),
    Case("1d-tuple-args", (2, 4, 15), (4, 2, 3), stride=(2,), padding=(1, 3), dilation=(2,), groups=2),
    Case("1d-batch-0", (0, 2, 9), (4, 1, 3), stride=2, padding="valid", groups=2),
    Case("1d-long", (4, 8, 500), (4, 8, 9), padding="same"),
    # a strided stem of one channel (wav2vec 2.0's first layer in small): bwd_weight
    # by the broadcast kernels, 20 output channels in the lanes (float32: 16 + 4)
    Case("1d-stem-bcast", (3, 1, 203), (20, 1, 10), stride=5),
]
_ids = lambda c: c.name


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pass_", ["fwd", "bwd_data", "bwd_weight"])
@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_pass_matches_reference(check, case, pass_, dtype, algo):
    check(case, pass_, dtype, algo)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_bias_matches_reference(check, case, dtype):
    check(case, "bias", dtype)


@pytest.mark.parametrize("need", [s for k in range(4) for s in itertools.combinations(("input", "weight", "bias"), k)],
                         ids=lambda s: "+".join(s) or "none")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_combined_backward_every_need_subset(need, dtype):
    case = GRID[0]
    d = _check.make_inputs(case, dtype)
    out = dict(zip(("input", "weight", "bias"), convbp.conv1d_backward(d["x"], d["w"], d["dy"], **case.conv, need=need)))
    for name, pass_ in (("input", "bwd_data"), ("weight", "bwd_weight"), ("bias", "bias")):
        if name not in need:
            assert out[name] is None
            continue
        want, mag = _check.run_reference(case, pass_, d)
        assert out[name].dtype == np.dtype(dtype) and out[name].shape == want.shape
        err = _check.rel_error(out[name], want, mag)
        record_error(dtype, pass_, err, f"conv1d_backward {case.describe()}")
        assert err <= _check.tolerance(dtype, _check.n_terms(case, pass_))


def _as_2d(case: Case) -> dict:
    """The conv2d arguments of a conv1d case on (N, C, 1, L): H = R = 1."""
    p = case.params()
    return dict(stride=(1, p.stride_w), padding=(0, 0, p.pad_left, p.pad_right), dilation=(1, p.dil_w),
                groups=p.groups)


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_conv1d_equals_conv2d_with_height_1(case):
    d = _check.make_inputs(case, "float64")
    c2 = _as_2d(case)
    x4, w4, dy4 = (d[k][:, :, None, :] for k in ("x", "w", "dy"))
    np.testing.assert_allclose(convbp.conv1d(d["x"], d["w"], d["b"], **case.conv),
                               convbp.conv2d(x4, w4, d["b"], **c2)[:, :, 0, :], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(convbp.conv1d_backward_input(d["dy"], d["w"], case.x_shape, **case.conv),
                               convbp.conv2d_backward_input(dy4, w4, x4.shape, **c2)[:, :, 0, :],
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(convbp.conv1d_backward_weight(d["x"], d["dy"], case.w_shape, **case.conv),
                               convbp.conv2d_backward_weight(x4, dy4, w4.shape, **c2)[:, :, 0, :],
                               rtol=1e-13, atol=1e-13)
