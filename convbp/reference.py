"""Float64 NumPy oracles for every pass of convbp (forward, backward-input,
backward-weight, backward-bias), each written in several independent forms taken
from the seeds (shared/seeds/):

    000  Ji & Xie, "Back-Propagation: From Fully Connected to Convolutional Layers"
    001  Diba, "Forward and Backward Propagation in Convolutional Neural Networks"
    002  Xu, "BP for convolutional layer" (im2col)
    003  Le, "Back-propagation through convolution" (worked 3x3 input / 2x2 kernel)

and from the sums of DESIGN.md. Names as in DESIGN.md: x (N, C, H, W), weight
(K, C/g, R, S), y (N, K, P, Q), stride (sh, sw), dilation (dh, dw), padding
(top, bottom, left, right), g groups; cross-correlation throughout:

    y[n,k,p,q]  = b[k] + sum_{c in group(k), r, s} w[k,c,r,s] * x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
    db[k]       = sum_{n,p,q} dy[n,k,p,q]
    dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] * x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
    dx[n,c,h,v] = sum_{k,r,s,p,q : p*sh + r*dh - top = h, q*sw + s*dw - left = v} dy[n,k,p,q] * w[k,c,r,s]

These are oracles: readable and literal, not fast. The padded input, the
zero-inserted ("stride-dilated") dy, the rot180 kernel, the im2col matrix and the
dense fully-connected matrix are materialized on purpose (the fast kernels never
do). Python loops run only over kernel taps (R*S of them); everything else is a
NumPy slice or a batched matmul, so small shapes take milliseconds.

Every function takes its arguments exactly as the public API does (ints, pairs,
4-tuples, padding strings) and normalizes them with ``convbp._args.params2d`` /
``params1d``, so "same", "same_lower", "valid" and "full" resolve exactly as in
the compiled path. Inputs are cast to float64; all results are float64. Groups are
supported by every method; a batch of 0 gives empty results of the right shape
(and zero grad_weight / grad_bias).

``method`` picks the form:

    conv2d / conv1d                  "loops" | "im2col" | "matrix"
    conv*d_backward_input            "loops" | "rot180" | "im2col" | "matrix"
    conv*d_backward_weight           "loops" | "dilated" | "im2col"
"""

from __future__ import annotations

import numpy as np

from . import _args, _core

__all__ = [
    "FORWARD_METHODS", "BACKWARD_INPUT_METHODS", "BACKWARD_WEIGHT_METHODS",
    "conv2d", "conv2d_backward_input", "conv2d_backward_weight", "conv2d_backward_bias",
    "conv1d", "conv1d_backward_input", "conv1d_backward_weight", "conv1d_backward_bias",
    "im2col", "col2im", "conv_as_matrix",
    "pad", "stride_dilate", "rot180",
]

FORWARD_METHODS = ("loops", "im2col", "matrix")
BACKWARD_INPUT_METHODS = ("loops", "rot180", "im2col", "matrix")
BACKWARD_WEIGHT_METHODS = ("loops", "dilated", "im2col")

# conv_as_matrix refuses to build a dense matrix larger than this many entries (2 GiB).
MAX_MATRIX_ENTRIES = 2**28


# --------------------------------------------------------------------------------------
# Small literal building blocks
# --------------------------------------------------------------------------------------

def pad(x, pads) -> np.ndarray:
    """x (N, C, H, W) zero-padded by pads = (top, bottom, left, right): the padded
    input q-bar of Diba 001 eq. 8 (there with the odd extra row at the top/left; here
    any split, as the caller's padding says)."""
    x = np.asarray(x, dtype=np.float64)
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def stride_dilate(dy, stride) -> np.ndarray:
    """dy (N, K, P, Q) with stride-1 zeros inserted between rows and columns, shape
    (N, K, (P-1)*sh + 1, (Q-1)*sw + 1): the "dilated matrix" dz-hat of Diba 001
    eq. 15 (and section 3.4). dyhat[n,k,p*sh,q*sw] = dy[n,k,p,q], zero elsewhere."""
    dy = np.asarray(dy, dtype=np.float64)
    sh, sw = stride
    N, K, P, Q = dy.shape
    out = np.zeros((N, K, (P - 1) * sh + 1, (Q - 1) * sw + 1))
    out[:, :, ::sh, ::sw] = dy
    return out


def rot180(w) -> np.ndarray:
    """The kernel rotated by 180 degrees over its two last axes:
    rot180(W)(a, b) = W(R-1-a, S-1-b) (Diba 001 eq. 22; Ji & Xie 000 eq. 14's w_{-i,-j})."""
    return np.asarray(w, dtype=np.float64)[..., ::-1, ::-1]


def _tap_range(count: int, stride: int, offset: int, size: int):
    """For one kernel tap: the output indices p in [0, count) whose input index
    h = p*stride + offset falls inside [0, size) (outside it x reads as 0).
    Returns (p_lo, p_hi, h_lo): p in range(p_lo, p_hi), h = h_lo + (p - p_lo)*stride."""
    p_lo = max(0, -(offset // stride))          # smallest p with p*stride + offset >= 0
    p_hi = min(count, (size - 1 - offset) // stride + 1)
    return p_lo, max(p_lo, p_hi), p_lo * stride + offset


def _taps(p):
    """Every kernel tap (r, s) that reads inside x, with where it acts: yields
    (r, s, out, inp, n_p, n_q) where ``out`` = (rows, cols) slices of the output plane
    and ``inp`` = (rows, cols) strided slices of the input plane it reads, one input
    pixel per output pixel (h = p*sh + r*dh - top, v = q*sw + s*dw - left)."""
    for r in range(p.R):
        p0, p1, h0 = _tap_range(p.P, p.stride_h, r * p.dil_h - p.pad_top, p.H)
        for s in range(p.S):
            q0, q1, v0 = _tap_range(p.Q, p.stride_w, s * p.dil_w - p.pad_left, p.W)
            n_p, n_q = p1 - p0, q1 - q0
            if n_p == 0 or n_q == 0:
                continue
            yield (r, s, (slice(p0, p1), slice(q0, q1)),
                   (slice(h0, h0 + (n_p - 1) * p.stride_h + 1, p.stride_h),
                    slice(v0, v0 + (n_q - 1) * p.stride_w + 1, p.stride_w)), n_p, n_q)


def _groups(a: np.ndarray, g: int, axis: int) -> np.ndarray:
    """Split ``axis`` of ``a`` into (g, a.shape[axis] // g): channels of group i are
    the i-th contiguous block (DESIGN.md's group(k))."""
    shape = a.shape[:axis] + (g, a.shape[axis] // g) + a.shape[axis + 1:]
    return a.reshape(shape)


def _params(N, C, H, W, K, R, S, groups=1, stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0)):
    p = _core.ConvParams(N=N, C=C, H=H, W=W, K=K, R=R, S=S, groups=groups, stride_h=stride[0],
                         stride_w=stride[1], dil_h=dilation[0], dil_w=dilation[1], pad_top=pads[0],
                         pad_bottom=pads[1], pad_left=pads[2], pad_right=pads[3])
    p.validate()
    return p


def _pads(p):
    return (p.pad_top, p.pad_bottom, p.pad_left, p.pad_right)


def _check_method(method, allowed, what):
    if method not in allowed:
        raise ValueError(f"method={method!r} is not one of {', '.join(repr(m) for m in allowed)} for {what}")


def _as_f64(a, name, ndim):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    return a


def _shape(s, ndim, name):
    s = tuple(int(v) for v in s)
    if len(s) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {s}")
    return s


def _check_dy(dy, p):
    if dy.shape != (p.N, p.K, p.P, p.Q):
        raise ValueError(f"grad_output has shape {dy.shape} but this convolution's output has shape "
                         f"{(p.N, p.K, p.P, p.Q)}")


# --------------------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------------------

def _forward_loops(p, x, w):
    """DESIGN.md's forward sum, tap by tap (Diba 001 eq. 6; Ji & Xie 000 eq. 30):
    y[n,k,p,q] += w[k,c,r,s] * x[n,c, p*sh + r*dh - top, q*sw + s*dw - left] for the
    (p, q) whose input index lies inside x (x reads as 0 outside, so no padding is
    materialized here). The sum over c in group(k) is a batched matmul per tap."""
    N, g = x.shape[0], p.groups
    Kg, Cg = p.K // g, p.C // g
    y = np.zeros((N, p.K, p.P, p.Q))
    yg = _groups(y, g, 1)                                   # view (N, g, Kg, P, Q)
    wg = _groups(w, g, 0)                                   # (g, Kg, Cg, R, S)
    for r, s, (po, qo), (hi, vi), n_p, n_q in _taps(p):
        xs = x[:, :, hi, vi].reshape(N, g, Cg, n_p * n_q)
        # sum_c w[k,c,r,s] x[n,c,h,v]:  (g, Kg, Cg) @ (N, g, Cg, n_p*n_q) -> (N, g, Kg, n_p*n_q)
        yg[:, :, :, po, qo] += (wg[:, :, :, r, s] @ xs).reshape(N, g, Kg, n_p, n_q)
    return y


def _forward_im2col(p, x, w):
    """Xu 002: O_f = phi(I) F_f, one GEMM per group. We store the transposes:
    cols[n] = phi(I_n)^T of shape (C*R*S, P*Q) and W_f^T = weight.reshape(K, C/g*R*S),
    so Y[n] = W_f^T cols[n] (also Diba 001 eqs. 33-35: the contraction of the patch
    tensor with the flattened filters)."""
    N, g = x.shape[0], p.groups
    cols = _groups(_im2col(p, x), g, 1)                     # (N, g, Cg*R*S, P*Q)
    wf = w.reshape(g, p.K // g, -1)                         # (g, Kg, Cg*R*S)
    return (wf @ cols).reshape(N, p.K, p.P, p.Q)


def _forward_matrix(p, x, w):
    """Ji & Xie 000 eq. 23: s = W~^T x, the convolution as a fully connected layer
    whose matrix (here M = W~^T) is sparse and weight-shared. M = I_N (kron) B is
    block diagonal, so vec(y[n]) = B vec(x[n]) for each sample (the same product as
    M @ x.ravel() without the N^2-sized matrix)."""
    N = x.shape[0]
    return (x.reshape(N, p.C * p.H * p.W) @ _conv_block(p, w).T).reshape(N, p.K, p.P, p.Q)


_FORWARD = {"loops": _forward_loops, "im2col": _forward_im2col, "matrix": _forward_matrix}


# --------------------------------------------------------------------------------------
# Backward with respect to the input
# --------------------------------------------------------------------------------------

def _backward_input_loops(p, dy, w):
    """DESIGN.md's dx sum in scatter (transposed) form, tap by tap: every dy[n,k,p,q]
    sends dy * w[k,c,r,s] back to the x[n,c,h,v] it was read from,
    h = p*sh + r*dh - top, v = q*sw + s*dw - left (Ji & Xie 000 eqs. 11-13: the
    chain rule through each s_{p,q} that reads x). Within one tap the (p, q) -> (h, v)
    map is injective, so a strided += is exact."""
    N, g = dy.shape[0], p.groups
    Kg, Cg = p.K // g, p.C // g
    dx = np.zeros((N, p.C, p.H, p.W))
    dxg = _groups(dx, g, 1)                                 # view (N, g, Cg, H, W)
    wt = _groups(w, g, 0).transpose(0, 2, 1, 3, 4)          # (g, Cg, Kg, R, S): transposed over channels
    dyg = _groups(dy, g, 1)                                 # (N, g, Kg, P, Q)
    for r, s, (po, qo), (hi, vi), n_p, n_q in _taps(p):
        d = dyg[:, :, :, po, qo].reshape(N, g, Kg, n_p * n_q)
        dxg[:, :, :, hi, vi] += (wt[:, :, :, r, s] @ d).reshape(N, g, Cg, n_p, n_q)
    return dx


def _backward_input_rot180(p, dy, w):
    """dx as the *full* correlation of the stride-dilated dy with the rot180 kernel,
    transposed over channels: Diba 001 eqs. 23-29 (stride 1: eq. 28; stride > 1:
    eq. 29 with the dilated dz-hat), Ji & Xie 000 eqs. 14/17/35 (the inverted
    filter w_{-i,-j} and W_{-i,-j} = [w_{-i,-j,1..N}]), Le 003 (dX = full convolution
    of dY with rot180(W)).

    With E = dh*(R-1) + 1 the extent of the (dilated) kernel and Hp = H + top + bottom:
      1. dyhat = stride_dilate(dy): zeros between rows/columns, (P-1)*sh + 1 rows;
      2. dzbar = dyhat with E-1 zero rows above (the "full" padding) and enough below
         that the correlation below has Hp rows (E-1 plus the rows of the padded
         input no output window reached);
      3. dxpad[n,c] = sum_{k in group(c)} dzbar[n,k] (star) rot180(w[k,c]) with the
         kernel dilated by (dh, dw) - the stride-1 forward correlation, with the
         kernel's channel axes swapped per group;
      4. dx = dxpad[top:top+H, left:left+W] (gradient of the padding discarded).
    Steps 2 and 4 together are Diba's p_<- = 2(f-1) - p_-> (eq. 24): a padding of
    E-1-top before, a crop where that is negative."""
    N, g = dy.shape[0], p.groups
    E, F = p.dil_h * (p.R - 1) + 1, p.dil_w * (p.S - 1) + 1
    Hp, Wp = p.H + p.pad_top + p.pad_bottom, p.W + p.pad_left + p.pad_right
    dyhat = stride_dilate(dy, (p.stride_h, p.stride_w))
    dzbar = np.zeros((N, p.K, Hp + E - 1, Wp + F - 1))
    dzbar[:, :, E - 1:E - 1 + dyhat.shape[2], F - 1:F - 1 + dyhat.shape[3]] = dyhat
    # rot180 of each w[k,c], channels transposed within each group: (C, K/g, R, S)
    w_rot_t = rot180(_groups(w, g, 0)).transpose(0, 2, 1, 3, 4).reshape(p.C, p.K // g, p.R, p.S)
    inner = _params(N, p.K, Hp + E - 1, Wp + F - 1, p.C, p.R, p.S, groups=g,
                    dilation=(p.dil_h, p.dil_w))
    assert (inner.P, inner.Q) == (Hp, Wp)
    dxpad = _forward_loops(inner, dzbar, np.ascontiguousarray(w_rot_t))
    return np.ascontiguousarray(dxpad[:, :, p.pad_top:p.pad_top + p.H, p.pad_left:p.pad_left + p.W])


def _backward_input_im2col(p, dy, w):
    """Xu 002: dL/dphi(I) = dL/dO_f F_f^T, then col2im scatter-adds each column
    entry back to the input pixel it was copied from. In our transposed storage:
    dcols[n] = W_f dY[n] (per group: (Cg*R*S, Kg) @ (Kg, P*Q)), dx = col2im(dcols)."""
    N, g = dy.shape[0], p.groups
    wf = w.reshape(g, p.K // g, -1)                          # (g, Kg, Cg*R*S)
    dyg = dy.reshape(N, g, p.K // g, p.P * p.Q)
    dcols = (wf.transpose(0, 2, 1) @ dyg).reshape(N, p.C * p.R * p.S, p.P * p.Q)
    return _col2im(p, dcols)


def _backward_input_matrix(p, dy, w):
    """Ji & Xie 000 eqs. 24-28: dL/dx = W~ delta, i.e. M^T vec(dy) with M = W~^T the
    fully connected matrix of the forward pass (the transposed matrix, where the
    convolution form uses the rot180 kernel). Per sample: vec(dx[n]) = B^T vec(dy[n])."""
    N = dy.shape[0]
    return (dy.reshape(N, p.K * p.P * p.Q) @ _conv_block(p, w)).reshape(N, p.C, p.H, p.W)


_BACKWARD_INPUT = {"loops": _backward_input_loops, "rot180": _backward_input_rot180,
                   "im2col": _backward_input_im2col, "matrix": _backward_input_matrix}


# --------------------------------------------------------------------------------------
# Backward with respect to the weight
# --------------------------------------------------------------------------------------

def _backward_weight_loops(p, x, dy):
    """DESIGN.md's dw sum, tap by tap (Diba 001 eqs. 12-14; Ji & Xie 000 eq. 7's
    x delta^T, weight-shared): dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] *
    x[n,c, p*sh + r*dh - top, q*sw + s*dw - left] over the (p, q) reading inside x."""
    N, g = x.shape[0], p.groups
    Kg, Cg = p.K // g, p.C // g
    dw = np.zeros((g, Kg, Cg, p.R, p.S))
    dyg = _groups(dy, g, 1)
    for r, s, (po, qo), (hi, vi), n_p, n_q in _taps(p):
        xs = x[:, :, hi, vi].reshape(N, g, Cg, n_p * n_q)
        d = dyg[:, :, :, po, qo].reshape(N, g, Kg, n_p * n_q)
        dw[:, :, :, r, s] = (d @ xs.transpose(0, 1, 3, 2)).sum(axis=0)
    return dw.reshape(p.K, Cg, p.R, p.S)


def _backward_weight_dilated(p, x, dy):
    """Diba 001 eq. 15: dW[k,c] = sum_n  xpad[n,c] (star) dyhat[n,k], the correlation of
    the padded input with the stride-dilated output gradient used as the filter
    (zeros inserted: the stride becomes a dilation of the filter). With a dilated
    kernel (dh, dw) the weight tap (r, s) is the correlation's value at
    (r*dh, s*dw); the other positions of the correlation belong to no weight.
    The zeros of dyhat are multiplied through, as in the seed."""
    N, g = x.shape[0], p.groups
    Kg, Cg = p.K // g, p.C // g
    xpad = pad(x, _pads(p))
    dyhat = stride_dilate(dy, (p.stride_h, p.stride_w))     # (N, K, Ph, Qh)
    Ph, Qh = dyhat.shape[2], dyhat.shape[3]
    dyg = dyhat.reshape(N, g, Kg, Ph * Qh)
    dw = np.zeros((g, Kg, Cg, p.R, p.S))
    for r in range(p.R):
        for s in range(p.S):
            a, b = r * p.dil_h, s * p.dil_w                  # correlation output position
            window = xpad[:, :, a:a + Ph, b:b + Qh].reshape(N, g, Cg, Ph * Qh)
            dw[:, :, :, r, s] = (dyg @ window.transpose(0, 1, 3, 2)).sum(axis=0)
    return dw.reshape(p.K, Cg, p.R, p.S)


def _backward_weight_im2col(p, x, dy):
    """Xu 002: dL/dF_f = phi(I)^T dL/dO_f ("the same as BP for a linear layer"),
    summed over the batch. Transposed storage: dW_f^T[g] = sum_n dY[n,g] cols[n,g]^T."""
    N, g = x.shape[0], p.groups
    cols = _groups(_im2col(p, x), g, 1)                     # (N, g, Cg*R*S, P*Q)
    dyg = dy.reshape(N, g, p.K // g, p.P * p.Q)
    dwf = (dyg @ cols.transpose(0, 1, 3, 2)).sum(axis=0)    # (g, Kg, Cg*R*S)
    return dwf.reshape(p.K, p.C // g, p.R, p.S)


_BACKWARD_WEIGHT = {"loops": _backward_weight_loops, "dilated": _backward_weight_dilated,
                    "im2col": _backward_weight_im2col}


# --------------------------------------------------------------------------------------
# im2col / col2im / the dense matrix
# --------------------------------------------------------------------------------------

def _im2col(p, x):
    """cols[n, (c, r, s), (p, q)] = xpad[n, c, p*sh + r*dh, q*sw + s*dw] (Xu 002's
    phi(I), transposed; Diba 001 eqs. 31-34's patch tensor). Row order c-major,
    then r, then s: the order of weight.reshape(K, -1)."""
    N = x.shape[0]
    xpad = pad(x, _pads(p))
    cols = np.empty((N, p.C, p.R, p.S, p.P, p.Q))
    for r in range(p.R):
        for s in range(p.S):
            a, b = r * p.dil_h, s * p.dil_w
            cols[:, :, r, s] = xpad[:, :, a:a + (p.P - 1) * p.stride_h + 1:p.stride_h,
                                    b:b + (p.Q - 1) * p.stride_w + 1:p.stride_w]
    return cols.reshape(N, p.C * p.R * p.S, p.P * p.Q)


def _col2im(p, cols):
    """The adjoint of _im2col: every column entry is added back to the padded-input
    pixel it was copied from (entries read by several windows accumulate), then the
    padding is cropped away."""
    N = cols.shape[0]
    c6 = cols.reshape(N, p.C, p.R, p.S, p.P, p.Q)
    xpad = np.zeros((N, p.C, p.H + p.pad_top + p.pad_bottom, p.W + p.pad_left + p.pad_right))
    for r in range(p.R):
        for s in range(p.S):
            a, b = r * p.dil_h, s * p.dil_w
            xpad[:, :, a:a + (p.P - 1) * p.stride_h + 1:p.stride_h,
                 b:b + (p.Q - 1) * p.stride_w + 1:p.stride_w] += c6[:, :, r, s]
    return np.ascontiguousarray(xpad[:, :, p.pad_top:p.pad_top + p.H, p.pad_left:p.pad_left + p.W])


def _conv_block(p, w):
    """One sample's block of the fully connected matrix (Ji & Xie 000 section 3.3 /
    fig. 1: the matrix W~^T obtained by sliding the kernel), shape (K*P*Q, C*H*W):
    B[(k,p,q), (c,h,v)] = w[k,c,r,s] wherever h = p*sh + r*dh - top and
    v = q*sw + s*dw - left lie inside x, and 0 elsewhere (c outside group(k): 0)."""
    g = p.groups
    Kg, Cg = p.K // g, p.C // g
    rows, cols_ = p.K * p.P * p.Q, p.C * p.H * p.W
    if rows * cols_ > MAX_MATRIX_ENTRIES:
        raise ValueError(f"the dense convolution matrix would have {rows} x {cols_} entries per sample; "
                         "the matrix form is for small shapes only")
    B = np.zeros((p.K, p.P, p.Q, p.C, p.H, p.W))
    kk = np.arange(p.K)[:, None, None, None]
    cc = ((np.arange(p.K) // Kg) * Cg)[:, None, None, None] + np.arange(Cg)[None, None, None, :]
    for r, s, (po, qo), (hs, vs), _, _ in _taps(p):
        pi = np.arange(po.start, po.stop)[None, :, None, None]
        hi = np.arange(hs.start, hs.stop, hs.step)[None, :, None, None]
        qi = np.arange(qo.start, qo.stop)[None, None, :, None]
        vi = np.arange(vs.start, vs.stop, vs.step)[None, None, :, None]
        # (k, p, q, c) -> (k, p, q, c, h(p), v(q)): distinct within the tap, and a
        # (p, h) pair fixes r (as (q, v) fixes s), so taps never collide either.
        B[kk, pi, qi, cc, hi, vi] += w[:, :, r, s][:, None, None, :]
    return B.reshape(rows, cols_)


def _conv_matrix(p, w):
    """M of shape (N*K*P*Q, N*C*H*W) with vec(y) = M vec(x) (no bias). Samples do
    not interact, so M = I_N (kron) B with B = _conv_block(p, w)."""
    B = _conv_block(p, w)
    if p.N * p.N * B.size > MAX_MATRIX_ENTRIES:
        raise ValueError(f"conv_as_matrix: the dense matrix would have {p.N * B.shape[0]} x "
                         f"{p.N * B.shape[1]} entries; use it on small shapes only")
    return np.kron(np.eye(p.N), B)


# --------------------------------------------------------------------------------------
# Public conv2d
# --------------------------------------------------------------------------------------

def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, method="loops") -> np.ndarray:
    """Forward conv2d in float64: y (N, K, P, Q). method: "loops" (DESIGN.md's sum),
    "im2col" (Xu 002), "matrix" (Ji & Xie 000 eq. 23). Bias: Diba 001 eq. 6's + b_nu."""
    _check_method(method, FORWARD_METHODS, "conv2d")
    x = _as_f64(x, "x", 4)
    w = _as_f64(weight, "weight", 4)
    p = _args.params2d(x.shape, w.shape, stride, padding, dilation, groups)
    y = _FORWARD[method](p, x, np.ascontiguousarray(w))
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64)
        if b.shape != (p.K,):
            raise ValueError(f"bias must have shape ({p.K},), got {b.shape}")
        y += b[None, :, None, None]
    return y


def conv2d_backward_input(grad_output, weight, input_shape, stride=1, padding=0, dilation=1, groups=1, *,
                          method="loops") -> np.ndarray:
    """dL/dx (N, C, H, W) in float64. method: "loops" (DESIGN.md's dx sum, scatter
    form), "rot180" (full correlation of the stride-dilated dy with the rot180
    kernel, Diba 001 eqs. 24-29), "im2col" (dY W^T then col2im, Xu 002), "matrix"
    (M^T vec(dy), Ji & Xie 000 sec. 3.3)."""
    _check_method(method, BACKWARD_INPUT_METHODS, "conv2d_backward_input")
    dy = _as_f64(grad_output, "grad_output", 4)
    w = _as_f64(weight, "weight", 4)
    p = _args.params2d(_shape(input_shape, 4, "input_shape"), w.shape, stride, padding, dilation, groups)
    _check_dy(dy, p)
    return _BACKWARD_INPUT[method](p, np.ascontiguousarray(dy), np.ascontiguousarray(w))


def conv2d_backward_weight(x, grad_output, weight_shape, stride=1, padding=0, dilation=1, groups=1, *,
                           method="loops") -> np.ndarray:
    """dL/dw (K, C/groups, R, S) in float64, summed over the batch. method: "loops"
    (DESIGN.md's dw sum), "dilated" (padded x correlated with the stride-dilated dy,
    Diba 001 eq. 15), "im2col" (phi(X)^T dY, Xu 002)."""
    _check_method(method, BACKWARD_WEIGHT_METHODS, "conv2d_backward_weight")
    x = _as_f64(x, "x", 4)
    dy = _as_f64(grad_output, "grad_output", 4)
    p = _args.params2d(x.shape, _shape(weight_shape, 4, "weight_shape"), stride, padding, dilation, groups)
    _check_dy(dy, p)
    return _BACKWARD_WEIGHT[method](p, np.ascontiguousarray(x), np.ascontiguousarray(dy))


def conv2d_backward_bias(grad_output) -> np.ndarray:
    """dL/db (K,): grad_output summed over every axis but 1 (Diba 001 eq. 16, summed
    over the batch too)."""
    dy = np.asarray(grad_output, dtype=np.float64)
    if dy.ndim < 2:
        raise ValueError(f"grad_output must have a channel axis 1, got shape {dy.shape}")
    return dy.sum(axis=tuple(i for i in range(dy.ndim) if i != 1))


# --------------------------------------------------------------------------------------
# Public conv1d: the conv2d with H = R = 1 (params from _args.params1d)
# --------------------------------------------------------------------------------------

def _to4d(a):
    return a.reshape(a.shape[0], a.shape[1], 1, a.shape[2])


def _from4d(a):
    return a.reshape(a.shape[0], a.shape[1], a.shape[3])


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, method="loops") -> np.ndarray:
    """Forward conv1d in float64: x (N, C, L), weight (K, C/groups, S) -> (N, K, Lout).
    Same methods as conv2d (the H = R = 1 case)."""
    _check_method(method, FORWARD_METHODS, "conv1d")
    x = _as_f64(x, "x", 3)
    w = _as_f64(weight, "weight", 3)
    p = _args.params1d(x.shape, w.shape, stride, padding, dilation, groups)
    y = _from4d(_FORWARD[method](p, _to4d(x), np.ascontiguousarray(_to4d(w))))
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64)
        if b.shape != (p.K,):
            raise ValueError(f"bias must have shape ({p.K},), got {b.shape}")
        y += b[None, :, None]
    return y


def conv1d_backward_input(grad_output, weight, input_shape, stride=1, padding=0, dilation=1, groups=1, *,
                          method="loops") -> np.ndarray:
    """dL/dx (N, C, L) of conv1d; methods as conv2d_backward_input."""
    _check_method(method, BACKWARD_INPUT_METHODS, "conv1d_backward_input")
    dy = _as_f64(grad_output, "grad_output", 3)
    w = _as_f64(weight, "weight", 3)
    p = _args.params1d(_shape(input_shape, 3, "input_shape"), w.shape, stride, padding, dilation, groups)
    dy4 = np.ascontiguousarray(_to4d(dy))
    _check_dy(dy4, p)
    return _from4d(_BACKWARD_INPUT[method](p, dy4, np.ascontiguousarray(_to4d(w))))


def conv1d_backward_weight(x, grad_output, weight_shape, stride=1, padding=0, dilation=1, groups=1, *,
                           method="loops") -> np.ndarray:
    """dL/dw (K, C/groups, S) of conv1d; methods as conv2d_backward_weight."""
    _check_method(method, BACKWARD_WEIGHT_METHODS, "conv1d_backward_weight")
    x = _as_f64(x, "x", 3)
    dy = _as_f64(grad_output, "grad_output", 3)
    weight_shape = _shape(weight_shape, 3, "weight_shape")
    p = _args.params1d(x.shape, weight_shape, stride, padding, dilation, groups)
    dy4 = np.ascontiguousarray(_to4d(dy))
    _check_dy(dy4, p)
    return _BACKWARD_WEIGHT[method](p, np.ascontiguousarray(_to4d(x)), dy4).reshape(weight_shape)


def conv1d_backward_bias(grad_output) -> np.ndarray:
    """dL/db (K,) of conv1d: grad_output (N, K, Lout) summed over N and Lout."""
    return conv2d_backward_bias(grad_output)


# --------------------------------------------------------------------------------------
# Public im2col / col2im / conv_as_matrix
# --------------------------------------------------------------------------------------

def _kernel_params(input_shape, kernel_size, stride, padding, dilation):
    """ConvParams of a groups=1, K=1 convolution with the given kernel size on
    input_shape (N, C, H, W) or (N, C, L)."""
    if len(input_shape) == 4:
        R, S = _args.as_tuple(kernel_size, 2, "kernel_size")
        return _args.params2d(input_shape, (1, input_shape[1], R, S), stride, padding, dilation, 1)
    if len(input_shape) == 3:
        (S,) = _args.as_tuple(kernel_size, 1, "kernel_size")
        return _args.params1d(input_shape, (1, input_shape[1], S), stride, padding, dilation, 1)
    raise ValueError(f"input must be (N, C, H, W) or (N, C, L), got shape {tuple(input_shape)}")


def im2col(x, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """cols (N, C*R*S, P*Q) with cols[n, (c*R + r)*S + s, p*Q + q] =
    xpad[n, c, p*sh + r*dh, q*sw + s*dw] (Xu 002's phi(I) transposed, per sample).
    x may also be (N, C, L), giving (N, C*S, Lout). Padding in any public form."""
    x = np.asarray(x, dtype=np.float64)
    p = _kernel_params(x.shape, kernel_size, stride, padding, dilation)
    return _im2col(p, _to4d(x) if x.ndim == 3 else x)


def col2im(cols, input_shape, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The adjoint of im2col (scatter-add): (N, C*R*S, P*Q) -> input_shape (N, C, H, W)
    or (N, C, L). <im2col(x), c> == <x, col2im(c)> for all x, c."""
    input_shape = tuple(int(v) for v in input_shape)
    p = _kernel_params(input_shape, kernel_size, stride, padding, dilation)
    cols = np.asarray(cols, dtype=np.float64)
    expected = (p.N, p.C * p.R * p.S, p.P * p.Q)
    if cols.shape != expected:
        raise ValueError(f"cols has shape {cols.shape}, expected {expected}")
    return _col2im(p, cols).reshape(input_shape)


def conv_as_matrix(weight, input_shape, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """The layer seen as fully connected (Ji & Xie 000 sec. 3.3): M of shape
    (N*K*P*Q, N*C*H*W) with y.ravel() == M @ x.ravel() (no bias) and
    grad_input.ravel() == M.T @ grad_output.ravel(). Weight (K, C/g, R, S) with
    input_shape (N, C, H, W), or (K, C/g, S) with (N, C, L). Small shapes only."""
    w = np.asarray(weight, dtype=np.float64)
    input_shape = tuple(int(v) for v in input_shape)
    if w.ndim == 4:
        p = _args.params2d(_shape(input_shape, 4, "input_shape"), w.shape, stride, padding, dilation, groups)
    elif w.ndim == 3:
        p = _args.params1d(_shape(input_shape, 3, "input_shape"), w.shape, stride, padding, dilation, groups)
        w = _to4d(w)
    else:
        raise ValueError(f"weight must be 3-D or 4-D, got shape {w.shape}")
    return _conv_matrix(p, np.ascontiguousarray(w))
