"""Tests of convbp.reference, the float64 NumPy oracles (not of the compiled kernels).

- every method of each pass agrees with the others on a grid of odd shapes;
- im2col / col2im are adjoint; conv_as_matrix is the layer as a fully connected map;
- PyTorch float64 agrees (F.conv2d on an explicitly F.pad-ded input, aten.convolution_backward);
- the worked 3x3-input / 2x2-kernel example of seed 003, formula by formula;
- finite differences of L = sum(y * g);
- padding strings, batch 0, conv1d, argument errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from convbp import _args
from convbp import reference as ref

TOL = 1e-12


def _rng(seed=0):
    return np.random.default_rng(seed)


def _assert_close(actual, expected, tol=TOL, what=""):
    """Same shape, float64, and max |actual - expected| <= tol * max(1, max |expected|)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == np.float64, f"{what}: dtype {actual.dtype}"
    if expected.size == 0:
        return
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(actual - expected)))
    assert err <= tol * scale, f"{what}: max abs error {err:.3g} > {tol:g} * {scale:.3g}"


# (N, C, H, W, K, R, S, stride, padding, dilation, groups): padding in every public form
CASES_2D = [
    pytest.param(2, 6, 13, 13, 4, 3, 3, 1, 1, 1, 1, id="basic-3x3-pad1"),
    pytest.param(3, 5, 11, 7, 7, 3, 5, 1, 0, 1, 1, id="primes-valid"),
    pytest.param(2, 3, 17, 13, 4, 2, 3, (5, 4), 0, 1, 1, id="stride-gt-kernel"),
    pytest.param(2, 3, 10, 10, 2, 3, 3, 3, 0, 1, 1, id="stride-remainder-rows"),
    pytest.param(2, 2, 19, 17, 3, 3, 3, 1, 2, (5, 4), 1, id="large-dilation"),
    pytest.param(1, 2, 23, 11, 2, 2, 3, (2, 3), (1, 0), (7, 2), 1, id="dilation-and-stride"),
    pytest.param(2, 3, 9, 10, 4, 3, 2, (2, 1), (0, 3, 2, 1), 1, 1, id="asymmetric-padding"),
    pytest.param(1, 2, 5, 6, 3, 2, 2, (2, 3), (4, 5, 6, 3), 1, 1, id="padding-gt-kernel"),
    pytest.param(2, 3, 4, 4, 2, 3, 3, 1, (5, 5), (1, 2), 1, id="padding-gt-input"),
    pytest.param(2, 6, 11, 9, 9, 3, 3, 2, 1, 1, 3, id="groups-3"),
    pytest.param(2, 4, 12, 8, 6, 1, 3, (1, 3), (0, 0, 1, 1), (1, 2), 2, id="groups-rect-kernel"),
    pytest.param(2, 4, 10, 10, 4, 3, 3, 1, "same", 1, 4, id="depthwise"),
    pytest.param(2, 4, 10, 9, 8, 3, 3, 1, "same", 1, 4, id="depthwise-multiplier-2"),
    pytest.param(1, 5, 13, 11, 15, 3, 3, 2, "same", 2, 5, id="depthwise-multiplier-3-strided"),
    pytest.param(3, 7, 6, 5, 5, 1, 1, 1, 0, 1, 1, id="1x1"),
    pytest.param(2, 4, 7, 7, 6, 1, 1, 2, 0, 1, 2, id="1x1-strided-groups"),
    pytest.param(2, 3, 5, 7, 4, 5, 7, 1, 0, 1, 1, id="kernel-equals-input"),
    pytest.param(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, id="all-ones"),
    pytest.param(0, 4, 8, 8, 6, 3, 3, 2, 1, 1, 2, id="batch-0"),
    pytest.param(2, 3, 9, 8, 4, 3, 2, 1, "valid", 1, 1, id="pad-valid"),
    pytest.param(2, 3, 9, 8, 4, 4, 2, 2, "same", 1, 1, id="pad-same-even-kernel-stride2"),
    pytest.param(2, 3, 9, 8, 4, 4, 3, 3, "same", (1, 2), 1, id="pad-same-stride3"),
    pytest.param(2, 3, 9, 8, 4, 4, 2, 2, "same_lower", 1, 1, id="pad-same_lower-even-kernel"),
    pytest.param(2, 3, 7, 8, 4, 2, 3, (1, 2), "same_lower", (3, 1), 1, id="pad-same_lower-dilated"),
    pytest.param(2, 3, 6, 5, 4, 3, 2, (2, 1), "full", (2, 1), 1, id="pad-full"),
]

# (N, C, L, K, S, stride, padding, dilation, groups)
CASES_1D = [
    pytest.param(2, 3, 17, 4, 3, 1, 1, 1, 1, id="1d-basic"),
    pytest.param(3, 4, 23, 6, 5, 4, (3, 0), 2, 2, id="1d-asym-stride-dil-groups"),
    pytest.param(2, 4, 11, 8, 3, 1, "same", 1, 4, id="1d-depthwise-mult"),
    pytest.param(2, 2, 10, 3, 4, 3, "same_lower", 1, 1, id="1d-same_lower"),
    pytest.param(1, 2, 5, 2, 2, 6, (7, 2), 3, 1, id="1d-stride-gt-kernel-pad-gt-kernel"),
    pytest.param(2, 3, 7, 5, 7, 1, "full", 1, 1, id="1d-full-kernel-equals-input"),
    pytest.param(0, 2, 9, 4, 3, 2, "valid", 1, 2, id="1d-batch-0"),
]


def _make_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups, seed=0):
    rng = _rng(seed)
    p = _args.params2d((N, C, H, W), (K, C // groups, R, S), stride, padding, dilation, groups)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((K, C // groups, R, S))
    b = rng.standard_normal(K)
    dy = rng.standard_normal((N, K, p.P, p.Q))
    return p, x, w, b, dy


def _make_1d(N, C, L, K, S, stride, padding, dilation, groups, seed=0):
    rng = _rng(seed)
    p = _args.params1d((N, C, L), (K, C // groups, S), stride, padding, dilation, groups)
    x = rng.standard_normal((N, C, L))
    w = rng.standard_normal((K, C // groups, S))
    b = rng.standard_normal(K)
    dy = rng.standard_normal((N, K, p.Q))
    return p, x, w, b, dy


# --------------------------------------------------------------------------------------
# All methods of each pass agree
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("N,C,H,W,K,R,S,stride,padding,dilation,groups", CASES_2D)
def test_methods_agree_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups):
    p, x, w, b, dy = _make_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups)
    conv = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    y0 = ref.conv2d(x, w, b, **conv, method="loops")
    assert y0.shape == (N, K, p.P, p.Q)
    for m in ref.FORWARD_METHODS:
        _assert_close(ref.conv2d(x, w, b, **conv, method=m), y0, what=f"forward {m}")

    dx0 = ref.conv2d_backward_input(dy, w, x.shape, **conv, method="loops")
    assert dx0.shape == x.shape
    for m in ref.BACKWARD_INPUT_METHODS:
        _assert_close(ref.conv2d_backward_input(dy, w, x.shape, **conv, method=m), dx0, what=f"dx {m}")

    dw0 = ref.conv2d_backward_weight(x, dy, w.shape, **conv, method="loops")
    assert dw0.shape == w.shape
    for m in ref.BACKWARD_WEIGHT_METHODS:
        _assert_close(ref.conv2d_backward_weight(x, dy, w.shape, **conv, method=m), dw0, what=f"dw {m}")

    _assert_close(ref.conv2d_backward_bias(dy), dy.sum(axis=(0, 2, 3)), what="db")


@pytest.mark.parametrize("N,C,L,K,S,stride,padding,dilation,groups", CASES_1D)
def test_methods_agree_1d_and_match_conv2d(N, C, L, K, S, stride, padding, dilation, groups):
    p, x, w, b, dy = _make_1d(N, C, L, K, S, stride, padding, dilation, groups)
    conv = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    # the same convolution written as conv2d with H = R = 1
    pads = (p.pad_left, p.pad_right)
    conv2 = dict(stride=(1, stride), padding=(0, 0) + pads, dilation=(1, dilation), groups=groups)
    x4, w4, dy4 = x[:, :, None, :], w[:, :, None, :], dy[:, :, None, :]

    y2 = ref.conv2d(x4, w4, b, **conv2)[:, :, 0, :]
    for m in ref.FORWARD_METHODS:
        _assert_close(ref.conv1d(x, w, b, **conv, method=m), y2, what=f"forward {m}")
    dx2 = ref.conv2d_backward_input(dy4, w4, x4.shape, **conv2)[:, :, 0, :]
    for m in ref.BACKWARD_INPUT_METHODS:
        _assert_close(ref.conv1d_backward_input(dy, w, x.shape, **conv, method=m), dx2, what=f"dx {m}")
    dw2 = ref.conv2d_backward_weight(x4, dy4, w4.shape, **conv2)[:, :, 0, :]
    for m in ref.BACKWARD_WEIGHT_METHODS:
        _assert_close(ref.conv1d_backward_weight(x, dy, w.shape, **conv, method=m), dw2, what=f"dw {m}")
    _assert_close(ref.conv1d_backward_bias(dy), dy.sum(axis=(0, 2)), what="db")


def _random_configs(count, seed):
    """Small random convolutions (seeded), covering combinations the list above misses."""
    rng = _rng(seed)
    out = []
    while len(out) < count:
        g = int(rng.choice([1, 1, 2, 3]))
        C, K = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
        R, S = (int(v) for v in rng.integers(1, 5, size=2))
        H, W = (int(v) for v in rng.integers(1, 14, size=2))
        st = tuple(int(v) for v in rng.integers(1, 5, size=2))
        dil = tuple(int(v) for v in rng.integers(1, 4, size=2))
        if rng.random() < 0.3:
            pad = str(rng.choice(_args.PADDING_STRINGS))
        else:
            pad = tuple(int(v) for v in rng.integers(0, 6, size=4))
        N = int(rng.integers(0, 3))
        try:
            _args.params2d((N, C, H, W), (K, C // g, R, S), st, pad, dil, g)
        except ValueError:
            continue  # output would be empty
        out.append((N, C, H, W, K, R, S, st, pad, dil, g))
    return out


@pytest.mark.parametrize("cfg", _random_configs(40, seed=1234), ids=lambda c: "x".join(map(str, c[:7])))
def test_methods_agree_random(cfg):
    N, C, H, W, K, R, S, st, pad, dil, g = cfg
    p, x, w, b, dy = _make_2d(*cfg, seed=7)
    conv = dict(stride=st, padding=pad, dilation=dil, groups=g)
    y0 = ref.conv2d(x, w, b, **conv)
    for m in ref.FORWARD_METHODS[1:]:
        _assert_close(ref.conv2d(x, w, b, **conv, method=m), y0, what=f"forward {m}")
    dx0 = ref.conv2d_backward_input(dy, w, x.shape, **conv)
    for m in ref.BACKWARD_INPUT_METHODS[1:]:
        _assert_close(ref.conv2d_backward_input(dy, w, x.shape, **conv, method=m), dx0, what=f"dx {m}")
    dw0 = ref.conv2d_backward_weight(x, dy, w.shape, **conv)
    for m in ref.BACKWARD_WEIGHT_METHODS[1:]:
        _assert_close(ref.conv2d_backward_weight(x, dy, w.shape, **conv, method=m), dw0, what=f"dw {m}")


# --------------------------------------------------------------------------------------
# Batch 0, dtypes, helpers, errors
# --------------------------------------------------------------------------------------

def test_batch_zero_gives_empty_and_zero_results():
    x = np.zeros((0, 4, 9, 7))
    w = _rng().standard_normal((6, 2, 3, 2))
    conv = dict(stride=(2, 1), padding="same", dilation=(1, 2), groups=2)
    p = _args.params2d(x.shape, w.shape, **conv)
    dy = np.zeros((0, 6, p.P, p.Q))
    for m in ref.FORWARD_METHODS:
        assert ref.conv2d(x, w, np.ones(6), **conv, method=m).shape == (0, 6, p.P, p.Q)
    for m in ref.BACKWARD_INPUT_METHODS:
        assert ref.conv2d_backward_input(dy, w, x.shape, **conv, method=m).shape == x.shape
    for m in ref.BACKWARD_WEIGHT_METHODS:
        dw = ref.conv2d_backward_weight(x, dy, w.shape, **conv, method=m)
        assert dw.shape == w.shape and dw.dtype == np.float64 and not dw.any()
    db = ref.conv2d_backward_bias(dy)
    assert db.shape == (6,) and not db.any()
    assert ref.im2col(x, (3, 2), **{k: conv[k] for k in ("stride", "padding", "dilation")}).shape == \
        (0, 4 * 3 * 2, p.P * p.Q)
    assert ref.conv_as_matrix(w, x.shape, **conv).shape == (0, 0)
    x1, w1 = np.zeros((0, 2, 5)), np.ones((3, 2, 2))
    assert ref.conv1d(x1, w1).shape == (0, 3, 4)
    assert not ref.conv1d_backward_weight(x1, np.zeros((0, 3, 4)), w1.shape).any()
    assert ref.conv1d_backward_bias(np.zeros((0, 3, 4))).shape == (3,)


def test_inputs_cast_to_float64():
    rng = _rng()
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    y = ref.conv2d(x, w.tolist(), method="im2col")      # lists are fine too
    assert y.dtype == np.float64
    _assert_close(y, ref.conv2d(x.astype(np.float64), w.astype(np.float64)))
    assert ref.conv2d_backward_bias(np.ones((1, 3, 4, 4), np.float32)).dtype == np.float64


def test_stride_dilate_and_rot180_literal():
    dy = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    d = ref.stride_dilate(dy, (3, 2))
    expected = np.array([[1, 0, 2, 0, 3],
                         [0, 0, 0, 0, 0],
                         [0, 0, 0, 0, 0],
                         [4, 0, 5, 0, 6]], float)
    np.testing.assert_array_equal(d[0, 0], expected)
    w = np.arange(6.0).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(ref.rot180(w)[0, 0], [[5, 4, 3], [2, 1, 0]])
    np.testing.assert_array_equal(ref.pad(np.ones((1, 1, 1, 1)), (1, 0, 2, 1))[0, 0],
                                  [[0, 0, 0, 0], [0, 0, 1, 0]])


def test_errors():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="method"):
        ref.conv2d(x, w, method="fft")
    with pytest.raises(ValueError, match="method"):
        ref.conv2d_backward_weight(x, np.zeros((1, 3, 3, 3)), w.shape, method="rot180")
    with pytest.raises(ValueError, match="grad_output"):
        ref.conv2d_backward_input(np.zeros((1, 3, 4, 4)), w, x.shape)
    with pytest.raises(ValueError, match="bias"):
        ref.conv2d(x, w, np.zeros(2))
    with pytest.raises(ValueError):
        ref.conv2d(x, np.zeros((3, 2, 7, 7)))             # output would be empty
    with pytest.raises(ValueError):
        ref.conv2d(x, w, padding="middle")
    with pytest.raises(ValueError):
        ref.col2im(np.zeros((1, 5, 9)), x.shape, 3)


# --------------------------------------------------------------------------------------
# Padding strings: the public rules, checked from their definitions
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("H,R,stride,dil", [(9, 3, 1, 1), (9, 4, 1, 1), (10, 4, 2, 1), (13, 3, 3, 2),
                                            (7, 2, 1, 3), (8, 5, 4, 1), (1, 3, 1, 1)])
def test_padding_strings_output_sizes(H, R, stride, dil):
    x = _rng().standard_normal((1, 1, H, H + 1))
    w = _rng(1).standard_normal((1, 1, R, R))
    E = dil * (R - 1) + 1
    conv = dict(stride=stride, dilation=dil)
    assert ref.conv2d(x, w, padding="same", **conv).shape[2:] == (math.ceil(H / stride), math.ceil((H + 1) / stride))
    assert ref.conv2d(x, w, padding="same_lower", **conv).shape[2:] == \
        (math.ceil(H / stride), math.ceil((H + 1) / stride))
    assert ref.conv2d(x, w, padding="full", **conv).shape[2] == (H + E - 2) // stride + 1
    if H >= E:
        assert ref.conv2d(x, w, padding="valid", **conv).shape[2] == (H - E) // stride + 1
    # 'same' puts an odd total's extra row at the bottom, 'same_lower' at the top
    total = max((math.ceil(H / stride) - 1) * stride + E - H, 0)
    p_same = _args.params2d(x.shape, w.shape, stride, "same", dil, 1)
    p_low = _args.params2d(x.shape, w.shape, stride, "same_lower", dil, 1)
    assert (p_same.pad_top, p_same.pad_bottom) == (total // 2, total - total // 2)
    assert (p_low.pad_top, p_low.pad_bottom) == (total - total // 2, total // 2)


# --------------------------------------------------------------------------------------
# im2col / col2im adjointness, conv_as_matrix
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kernel,stride,padding,dilation", [
    ((2, 3, 7, 9), (3, 2), 1, 0, 1),
    ((2, 3, 7, 9), (3, 2), (2, 3), (1, 2, 0, 3), (2, 1)),
    ((1, 2, 5, 4), 3, 3, "same", 1),
    ((1, 2, 5, 4), (2, 4), 1, "full", (2, 1)),
    ((2, 2, 6, 6), 1, 2, (4, 4), 1),
    ((3, 2, 11), 3, 2, (1, 4), 3),                    # conv1d layout
    ((0, 2, 5, 5), 2, 1, 1, 1),
])
def test_im2col_col2im_adjoint(shape, kernel, stride, padding, dilation):
    rng = _rng(3)
    x = rng.standard_normal(shape)
    cols = ref.im2col(x, kernel, stride, padding, dilation)
    c = rng.standard_normal(cols.shape)
    back = ref.col2im(c, shape, kernel, stride, padding, dilation)
    assert back.shape == shape
    lhs, rhs = np.vdot(cols, c), np.vdot(x, back)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs), np.abs(cols).sum())
    # col2im(ones) counts how many windows read each input pixel (one per tap that lands there)
    counts = ref.col2im(np.ones(cols.shape), shape, kernel, stride, padding, dilation)
    assert np.all(counts == np.round(counts)) and counts.min(initial=0) >= 0


def test_im2col_layout():
    """cols[n, (c*R + r)*S + s, p*Q + q] == xpad[n, c, p*sh + r*dh, q*sw + s*dw]."""
    x = _rng().standard_normal((2, 3, 6, 7))
    st, dil, pads = (2, 1), (1, 2), (1, 0, 2, 1)
    R, S = 2, 3
    cols = ref.im2col(x, (R, S), st, pads, dil)
    xp = ref.pad(x, pads)
    P, Q = (6 + 1 - 1 * (R - 1) - 1) // 2 + 1, (7 + 3 - 2 * (S - 1) - 1) // 1 + 1
    assert cols.shape == (2, 3 * R * S, P * Q)
    for n, c, r, s, p, q in [(0, 0, 0, 0, 0, 0), (1, 2, 1, 2, P - 1, Q - 1), (1, 1, 0, 1, 2, 3), (0, 2, 1, 0, 1, 0)]:
        assert cols[n, (c * R + r) * S + s, p * Q + q] == xp[n, c, p * st[0] + r * dil[0], q * st[1] + s * dil[1]]


@pytest.mark.parametrize("N,C,H,W,K,R,S,stride,padding,dilation,groups", [
    (2, 3, 5, 6, 4, 3, 2, 1, 1, 1, 1),
    (2, 4, 7, 5, 6, 2, 3, (2, 1), (0, 2, 1, 3), (2, 1), 2),
    (1, 3, 6, 6, 6, 3, 3, 2, "same", 1, 3),
    (3, 2, 4, 4, 2, 4, 4, 1, 0, 1, 1),
])
def test_conv_as_matrix(N, C, H, W, K, R, S, stride, padding, dilation, groups):
    p, x, w, b, dy = _make_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups)
    conv = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    M = ref.conv_as_matrix(w, x.shape, **conv)
    assert M.shape == (N * K * p.P * p.Q, N * C * H * W)
    _assert_close((M @ x.ravel()).reshape(N, K, p.P, p.Q), ref.conv2d(x, w, **conv, method="loops"))
    _assert_close((M.T @ dy.ravel()).reshape(x.shape), ref.conv2d_backward_input(dy, w, x.shape, **conv))
    # sparse and weight-shared (Ji & Xie 3.3): every non-zero entry is a weight, each
    # row holds at most C/g*R*S of them, and samples do not interact (block diagonal)
    nz = M[M != 0]
    assert np.isin(nz, w.ravel()).all()
    assert (np.count_nonzero(M, axis=1) <= (C // groups) * R * S).all()
    blk = K * p.P * p.Q, C * H * W
    for i in range(N):
        for j in range(N):
            block = M[i * blk[0]:(i + 1) * blk[0], j * blk[1]:(j + 1) * blk[1]]
            if i != j:
                assert not block.any()
    # dw from the matrix: dL/dw[k,c,r,s] = dy^T (dM/dw[k,c,r,s]) x, M being linear in w
    dw = ref.conv2d_backward_weight(x, dy, w.shape, **conv)
    for idx in [(0, 0, 0, 0), (K - 1, C // groups - 1, R - 1, S - 1), (K // 2, 0, R // 2, S - 1)]:
        e = np.zeros_like(w)
        e[idx] = 1.0
        dM = ref.conv_as_matrix(e, x.shape, **conv)
        assert abs(dy.ravel() @ dM @ x.ravel() - dw[idx]) <= 1e-12 * max(1.0, abs(dw[idx]))


def test_conv_as_matrix_1d():
    p, x, w, b, dy = _make_1d(2, 4, 9, 6, 3, 2, (1, 2), 2, 2)
    M = ref.conv_as_matrix(w, x.shape, 2, (1, 2), 2, 2)
    _assert_close((M @ x.ravel()).reshape(dy.shape), ref.conv1d(x, w, None, 2, (1, 2), 2, 2))
    _assert_close((M.T @ dy.ravel()).reshape(x.shape), ref.conv1d_backward_input(dy, w, x.shape, 2, (1, 2), 2, 2))


# --------------------------------------------------------------------------------------
# Seed 003: the worked 3x3-input / 2x2-kernel example, formula by formula
# --------------------------------------------------------------------------------------

# The seed writes a true convolution Y = X * W (it multiplies x11 by w22), so our
# cross-correlation weight is rot180(W). Indices are the seed's, 1-based.
SEED003_Y = {
    "y11": "w22*x11 + w21*x12 + w12*x21 + w11*x22",
    "y12": "w22*x12 + w21*x13 + w12*x22 + w11*x23",
    "y21": "w22*x21 + w21*x22 + w12*x31 + w11*x32",
    "y22": "w22*x22 + w21*x23 + w12*x32 + w11*x33",
}
SEED003_DW = {
    "w11": "dy11*x22 + dy12*x23 + dy21*x32 + dy22*x33",
    "w12": "dy11*x21 + dy12*x22 + dy21*x31 + dy22*x32",
    "w21": "dy11*x12 + dy12*x13 + dy21*x22 + dy22*x23",
    "w22": "dy11*x11 + dy12*x12 + dy21*x21 + dy22*x22",
}
SEED003_DX = {
    "x11": "dy11*w22",
    "x12": "dy11*w21 + dy12*w22",
    "x13": "dy12*w21",
    "x21": "dy11*w12 + dy21*w22",
    # the extracted text writes the last term as dy11*w22; x22 meets w22 in y22
    # (y22 = w22*x22 + ...), so the mathematics says dy22*w22
    "x22": "dy11*w11 + dy12*w12 + dy21*w21 + dy22*w22",
    "x23": "dy12*w11 + dy22*w21",
    "x31": "dy21*w12",
    "x32": "dy21*w11 + dy22*w12",
    "x33": "dy22*w11",
}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed003_worked_example(seed):
    rng = _rng(seed)
    X, W, dY = rng.standard_normal((3, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    env = {}
    for i in range(3):
        for j in range(3):
            env[f"x{i + 1}{j + 1}"] = X[i, j]
    for i in range(2):
        for j in range(2):
            env[f"w{i + 1}{j + 1}"] = W[i, j]
            env[f"dy{i + 1}{j + 1}"] = dY[i, j]

    def ev(expr):
        return eval(expr, {"__builtins__": {}}, env)  # noqa: S307 - fixed formulas above

    x, dy = X[None, None], dY[None, None]
    wc = ref.rot180(W)[None, None]                       # cross-correlation weight
    y = ref.conv2d(x, wc)
    for name, expr in SEED003_Y.items():
        i, j = int(name[1]) - 1, int(name[2]) - 1
        assert abs(y[0, 0, i, j] - ev(expr)) < 1e-13, name

    for m in ref.BACKWARD_WEIGHT_METHODS:
        dW = ref.rot180(ref.conv2d_backward_weight(x, dy, wc.shape, method=m))[0, 0]  # back to the seed's W
        for name, expr in SEED003_DW.items():
            i, j = int(name[1]) - 1, int(name[2]) - 1
            assert abs(dW[i, j] - ev(expr)) < 1e-13, (m, name)

    for m in ref.BACKWARD_INPUT_METHODS:
        dX = ref.conv2d_backward_input(dy, wc, x.shape, method=m)[0, 0]
        for name, expr in SEED003_DX.items():
            i, j = int(name[1]) - 1, int(name[2]) - 1
            assert abs(dX[i, j] - ev(expr)) < 1e-13, (m, name)

    # the seed's summary: dX = full convolution of dY with W, i.e. the full
    # cross-correlation of dY with rot180(W) (padding 1 on every side here)
    full = ref.conv2d(dy, ref.rot180(wc), padding="full")[0, 0]
    _assert_close(full, ref.conv2d_backward_input(dy, wc, x.shape)[0, 0], tol=1e-13)


# --------------------------------------------------------------------------------------
# Finite differences of L = sum(y * g)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("N,C,H,W,K,R,S,stride,padding,dilation,groups", [
    (2, 4, 6, 5, 6, 3, 2, (2, 1), (1, 2, 0, 1), (1, 2), 2),
    (1, 3, 7, 7, 3, 3, 3, 3, "same", 2, 3),
    (2, 2, 5, 4, 3, 2, 2, 1, (3, 0, 0, 2), 1, 1),
])
def test_finite_differences(N, C, H, W, K, R, S, stride, padding, dilation, groups):
    p, x, w, b, g = _make_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups, seed=5)
    conv = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    def loss(x_, w_, b_):
        return float(np.sum(ref.conv2d(x_, w_, b_, **conv) * g))

    eps = 1e-3  # L is linear in each argument: central differences are exact up to rounding

    def numgrad(arg):
        out = np.zeros_like(arg)
        for idx in np.ndindex(arg.shape):
            old = arg[idx]
            arg[idx] = old + eps
            lp = loss(x, w, b)
            arg[idx] = old - eps
            lm = loss(x, w, b)
            arg[idx] = old
            out[idx] = (lp - lm) / (2 * eps)
        return out

    for m in ref.BACKWARD_INPUT_METHODS:
        _assert_close(ref.conv2d_backward_input(g, w, x.shape, **conv, method=m), numgrad(x), tol=1e-8,
                      what=f"dx {m}")
    for m in ref.BACKWARD_WEIGHT_METHODS:
        _assert_close(ref.conv2d_backward_weight(x, g, w.shape, **conv, method=m), numgrad(w), tol=1e-8,
                      what=f"dw {m}")
    _assert_close(ref.conv2d_backward_bias(g), numgrad(b), tol=1e-8, what="db")


# --------------------------------------------------------------------------------------
# PyTorch float64
# --------------------------------------------------------------------------------------

def _torch_2d(x, w, b, dy, p):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    st, dil = [p.stride_h, p.stride_w], [p.dil_h, p.dil_w]
    xt = F.pad(torch.from_numpy(x), (p.pad_left, p.pad_right, p.pad_top, p.pad_bottom))
    wt, bt, dyt = torch.from_numpy(w), torch.from_numpy(b), torch.from_numpy(dy)
    y = F.conv2d(xt, wt, bt, st, 0, dil, p.groups)
    dxp, dw, db = torch.ops.aten.convolution_backward(dyt, xt, wt, [w.shape[0]], st, [0, 0], dil, False,
                                                      [0, 0], p.groups, [True, True, True])
    dx = dxp[:, :, p.pad_top:p.pad_top + p.H, p.pad_left:p.pad_left + p.W]
    return y.numpy(), dx.numpy(), dw.numpy(), db.numpy()


@pytest.mark.parametrize("N,C,H,W,K,R,S,stride,padding,dilation,groups",
                         [c for c in CASES_2D if c.values[0] > 0])
def test_against_torch_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups):
    pytest.importorskip("torch")
    p, x, w, b, dy = _make_2d(N, C, H, W, K, R, S, stride, padding, dilation, groups, seed=11)
    ty, tdx, tdw, tdb = _torch_2d(x, w, b, dy, p)
    conv = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    for m in ref.FORWARD_METHODS:
        _assert_close(ref.conv2d(x, w, b, **conv, method=m), ty, what=f"forward {m}")
    for m in ref.BACKWARD_INPUT_METHODS:
        _assert_close(ref.conv2d_backward_input(dy, w, x.shape, **conv, method=m), tdx, what=f"dx {m}")
    for m in ref.BACKWARD_WEIGHT_METHODS:
        _assert_close(ref.conv2d_backward_weight(x, dy, w.shape, **conv, method=m), tdw, what=f"dw {m}")
    _assert_close(ref.conv2d_backward_bias(dy), tdb, what="db")


@pytest.mark.parametrize("cfg", [c for c in _random_configs(20, seed=99) if c[0] > 0],
                         ids=lambda c: "x".join(map(str, c[:7])))
def test_against_torch_random(cfg):
    pytest.importorskip("torch")
    N, C, H, W, K, R, S, st, pad, dil, g = cfg
    p, x, w, b, dy = _make_2d(*cfg, seed=13)
    ty, tdx, tdw, tdb = _torch_2d(x, w, b, dy, p)
    conv = dict(stride=st, padding=pad, dilation=dil, groups=g)
    _assert_close(ref.conv2d(x, w, b, **conv), ty, what="forward")
    _assert_close(ref.conv2d_backward_input(dy, w, x.shape, **conv, method="rot180"), tdx, what="dx")
    _assert_close(ref.conv2d_backward_weight(x, dy, w.shape, **conv, method="dilated"), tdw, what="dw")


@pytest.mark.parametrize("N,C,L,K,S,stride,padding,dilation,groups", [c for c in CASES_1D if c.values[0] > 0])
def test_against_torch_1d(N, C, L, K, S, stride, padding, dilation, groups):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    p, x, w, b, dy = _make_1d(N, C, L, K, S, stride, padding, dilation, groups, seed=17)
    xt = F.pad(torch.from_numpy(x), (p.pad_left, p.pad_right))
    wt = torch.from_numpy(w)
    ty = F.conv1d(xt, wt, torch.from_numpy(b), stride, 0, dilation, groups).numpy()
    dxp, tdw, tdb = torch.ops.aten.convolution_backward(torch.from_numpy(dy), xt, wt, [K], [stride], [0],
                                                        [dilation], False, [0], groups, [True, True, True])
    tdx = dxp[:, :, p.pad_left:p.pad_left + L].numpy()
    conv = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    for m in ref.FORWARD_METHODS:
        _assert_close(ref.conv1d(x, w, b, **conv, method=m), ty, what=f"forward {m}")
    for m in ref.BACKWARD_INPUT_METHODS:
        _assert_close(ref.conv1d_backward_input(dy, w, x.shape, **conv, method=m), tdx, what=f"dx {m}")
    for m in ref.BACKWARD_WEIGHT_METHODS:
        _assert_close(ref.conv1d_backward_weight(x, dy, w.shape, **conv, method=m), tdw.numpy(), what=f"dw {m}")
    _assert_close(ref.conv1d_backward_bias(dy), tdb.numpy(), what="db")


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("R,S,dilation", [(3, 3, 1), (4, 2, 1), (2, 5, (2, 1)), (4, 4, 3)])
def test_same_matches_torch_same_at_stride_1(R, S, dilation):
    """torch's padding='same' (stride 1) also puts an odd total's extra row/column at
    the bottom/right: our 'same' must give the same numbers without explicit pads."""
    torch = pytest.importorskip("torch")
    rng = _rng(21)
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, R, S))
    ty = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), None, 1, "same", dilation).numpy()
    _assert_close(ref.conv2d(x, w, padding="same", dilation=dilation), ty)
