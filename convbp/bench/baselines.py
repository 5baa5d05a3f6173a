"""The implementations a benchmark compares: convbp itself, the best plain-NumPy route a
user would write, and PyTorch CPU (optional). Never used by convbp's own kernels.

Each implementation is a ``prepare(case) -> (run, to_numpy)`` function: ``run()`` performs
one pass on the case's arrays (what gets timed), ``to_numpy(run())`` gives the result as an
ndarray (what gets checked against convbp before anything is timed).

Passes (DESIGN.md, all with FLOPs 2*N*K*(C/g)*R*S*P*Q):
    fwd         y  = conv(x, w)                 x (N, C, H, W), w (K, C/g, R, S) -> y (N, K, P, Q)
    bwd_data    dx from dy and w                -> (N, C, H, W)
    bwd_weight  dw from x and dy                -> (K, C/g, R, S)
conv1d layers are the H = R = 1 case (x (N, C, L)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

import convbp

from .suites import Layer

PASSES = ("fwd", "bwd_data", "bwd_weight")
IMPL_NAMES = ("convbp", "numpy", "torch")
# Largest accepted max|result - convbp| / max|convbp|: float32 sums of up to ~1e5 terms
# stay near 1e-5; a wrong index or padding gives errors of order 1.
TOLERANCE = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-9}


class Unsupported(Exception):
    """An implementation cannot run this case (reported as such, never timed)."""


@dataclass
class Case:
    """One layer at one batch size, one pass and one dtype, with its input arrays.

    Only the arrays the pass reads are made: fwd (x, w), bwd_data (dy, w), bwd_weight (x, dy).
    """

    layer: Layer
    batch: int
    pass_: str
    dtype: np.dtype
    params: object            # _core.ConvParams (convbp._args made it: the one shape arithmetic)
    x: Optional[np.ndarray]
    w: Optional[np.ndarray]
    dy: Optional[np.ndarray]
    seed: int = 0

    @property
    def flops(self) -> float:
        return float(self.params.flops)

    @property
    def y_shape(self) -> tuple:
        p = self.params
        return (p.N, p.K, p.P, p.Q) if self.layer.dims == 2 else (p.N, p.K, p.Q)


def make_case(layer: Layer, batch: int, pass_: str, dtype="float32", seed: int = 0) -> Case:
    """Standard-normal inputs for ``pass_`` of ``layer`` at ``batch`` (same seed, same arrays)."""
    if pass_ not in PASSES:
        raise ValueError(f"pass {pass_!r} is not one of {PASSES}")
    dtype = np.dtype(dtype)
    if dtype not in TOLERANCE:
        raise ValueError(f"dtype {dtype} is not float32 or float64")
    p = layer.params(batch)
    rng = np.random.default_rng(seed)
    case = Case(layer, batch, pass_, dtype, p, None, None, None, seed)

    def normal(shape):
        return rng.standard_normal(shape, dtype=dtype)

    if pass_ != "bwd_data":
        case.x = normal(layer.x_shape(batch))
    if pass_ != "bwd_weight":
        case.w = normal(layer.w_shape)
    if pass_ != "fwd":
        case.dy = normal(case.y_shape)
    return case


def max_rel_error(result: np.ndarray, expected: np.ndarray) -> float:
    """max|result - expected| / max|expected| (inf when the shapes differ)."""
    if result.shape != expected.shape:
        return float("inf")
    scale = float(np.max(np.abs(expected), initial=0.0)) or 1.0
    diff = np.abs(result.astype(np.float64) - expected.astype(np.float64))
    return float(np.max(diff, initial=0.0)) / scale


# --------------------------------------------------------------------------- convbp

def prepare_convbp(case: Case) -> Tuple[Callable, Callable]:
    L, kw = case.layer, case.layer.conv_kwargs()
    two_d = L.dims == 2
    fwd = convbp.conv2d if two_d else convbp.conv1d
    bdata = convbp.conv2d_backward_input if two_d else convbp.conv1d_backward_input
    bweight = convbp.conv2d_backward_weight if two_d else convbp.conv1d_backward_weight
    x, w, dy, x_shape = case.x, case.w, case.dy, L.x_shape(case.batch)
    run = {
        "fwd": lambda: fwd(x, w, None, **kw),
        "bwd_data": lambda: bdata(dy, w, x_shape, **kw),
        "bwd_weight": lambda: bweight(x, dy, L.w_shape, **kw),
    }[case.pass_]
    return run, np.asarray


# --------------------------------------------------------------------------- NumPy
# Everything runs on 4-D arrays (conv1d is H = R = 1, a free reshape), by im2col + matmul
# (the seed 002 / Xu form: Y_f = phi(X) W_f, dW_f = phi(X)^T dY_f, dphi(X) = dY_f W_f^T
# then col2im), one batched matmul over the groups. For depthwise layers a per-tap
# multiply-accumulate loop was measured too: on MobileNetV1's depthwise layers it was
# mostly slower, at best within noise, so the one route serves every layer.

def _padded(x4: np.ndarray, p) -> np.ndarray:
    pads = ((0, 0), (0, 0), (p.pad_top, p.pad_bottom), (p.pad_left, p.pad_right))
    return np.pad(x4, pads) if any(a or b for a, b in pads) else x4


def _windows(xp: np.ndarray, p) -> np.ndarray:
    """Read-only view (N, C, P, Q, R, S): [n, c, p, q, r, s] = xp[n, c, p*sh + r*dh, q*sw + s*dw]
    (the forward sum of DESIGN.md, on the zero-padded input)."""
    sn, sc, sh, sw = xp.strides
    shape = (xp.shape[0], xp.shape[1], p.P, p.Q, p.R, p.S)
    strides = (sn, sc, sh * p.stride_h, sw * p.stride_w, sh * p.dil_h, sw * p.dil_w)
    return as_strided(xp, shape, strides, writeable=False)


def _tap(p, r: int, s: int) -> tuple:
    """The (rows, cols) slice of the padded input that tap (r, s) meets at all (p, q)."""
    h0, w0 = r * p.dil_h, s * p.dil_w
    return (slice(h0, h0 + p.stride_h * (p.P - 1) + 1, p.stride_h),
            slice(w0, w0 + p.stride_w * (p.Q - 1) + 1, p.stride_w))


def _im2col(x4: np.ndarray, p) -> np.ndarray:
    """phi(X) per group: (g, C/g * R * S, N * P * Q), materialized (one copy)."""
    g, Cg = p.groups, p.C // p.groups
    v = _windows(_padded(x4, p), p).reshape(p.N, g, Cg, p.P, p.Q, p.R, p.S)
    return v.transpose(1, 2, 5, 6, 0, 3, 4).reshape(g, Cg * p.R * p.S, p.N * p.P * p.Q)


def _dy_groups(dy4: np.ndarray, p) -> np.ndarray:
    """dY per group: (g, K/g, N * P * Q)."""
    g, Kg = p.groups, p.K // p.groups
    return dy4.reshape(p.N, g, Kg, p.P * p.Q).transpose(1, 2, 0, 3).reshape(g, Kg, p.N * p.P * p.Q)


def numpy_forward(x4, w4, p):
    g, Kg = p.groups, p.K // p.groups
    y = w4.reshape(g, Kg, -1) @ _im2col(x4, p)                        # (g, Kg, N*P*Q)
    return y.reshape(g, Kg, p.N, p.P, p.Q).transpose(2, 0, 1, 3, 4).reshape(p.N, p.K, p.P, p.Q)


def numpy_backward_weight(x4, dy4, p):
    Cg = p.C // p.groups
    dw = _dy_groups(dy4, p) @ _im2col(x4, p).transpose(0, 2, 1)        # (g, Kg, Cg*R*S)
    return dw.reshape(p.K, Cg, p.R, p.S)


def numpy_backward_input(dy4, w4, p, x_dtype):
    g, Kg, Cg = p.groups, p.K // p.groups, p.C // p.groups
    Hp, Wp = p.H + p.pad_top + p.pad_bottom, p.W + p.pad_left + p.pad_right
    # dphi(X) = W^T dY per group, then col2im: per-tap accumulation of the columns into
    # the padded dx (each tap (r, s) adds to a strided slice), then the padding is cut off.
    dcols = w4.reshape(g, Kg, -1).transpose(0, 2, 1) @ _dy_groups(dy4, p)   # (g, Cg*R*S, N*P*Q)
    dcols = dcols.reshape(g, Cg, p.R, p.S, p.N, p.P, p.Q)
    dxp = np.zeros((p.N, g, Cg, Hp, Wp), x_dtype)
    for r in range(p.R):
        for s in range(p.S):
            rows, cols = _tap(p, r, s)
            dxp[:, :, :, rows, cols] += dcols[:, :, r, s].transpose(2, 0, 1, 3, 4)
    dx = dxp.reshape(p.N, p.C, Hp, Wp)[:, :, p.pad_top:p.pad_top + p.H, p.pad_left:p.pad_left + p.W]
    return np.ascontiguousarray(dx)


def prepare_numpy(case: Case) -> Tuple[Callable, Callable]:
    p, L = case.params, case.layer

    def to4d(a):
        return a if a is None or a.ndim == 4 else a.reshape(a.shape[0], a.shape[1], 1, a.shape[2])

    x4, w4, dy4 = to4d(case.x), to4d(case.w), to4d(case.dy)
    out_shape = {"fwd": case.y_shape, "bwd_data": L.x_shape(case.batch), "bwd_weight": L.w_shape}[case.pass_]
    run = {
        "fwd": lambda: numpy_forward(x4, w4, p),
        "bwd_data": lambda: numpy_backward_input(dy4, w4, p, case.dtype),
        "bwd_weight": lambda: numpy_backward_weight(x4, dy4, p),
    }[case.pass_]
    return run, lambda a: a.reshape(out_shape)


# --------------------------------------------------------------------------- PyTorch

def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def prepare_torch(case: Case) -> Tuple[Callable, Callable]:
    """F.conv{1,2}d for fwd; aten.convolution_backward with one output mask per pass."""
    import torch
    import torch.nn.functional as F

    p, L = case.params, case.layer
    if p.pad_top != p.pad_bottom or p.pad_left != p.pad_right:
        raise Unsupported("torch: asymmetric padding")
    if L.dims == 2:
        stride, pad, dil, conv = [p.stride_h, p.stride_w], [p.pad_top, p.pad_left], [p.dil_h, p.dil_w], F.conv2d
    else:
        stride, pad, dil, conv = [p.stride_w], [p.pad_left], [p.dil_w], F.conv1d
    t = {k: (torch.from_numpy(a) if a is not None else None) for k, a in
         (("x", case.x), ("w", case.w), ("dy", case.dy))}
    mask = {"bwd_data": [True, False, False], "bwd_weight": [False, True, False]}
    back = torch.ops.aten.convolution_backward

    if case.pass_ == "fwd":
        def run():
            with torch.no_grad():
                return conv(t["x"], t["w"], None, stride, pad, dil, p.groups)
    elif case.pass_ == "bwd_data":
        x_meta = torch.empty(L.x_shape(case.batch), dtype=t["w"].dtype)   # only its shape is read

        def run():
            return back(t["dy"], x_meta, t["w"], None, stride, pad, dil, False, [0] * L.dims, p.groups,
                        mask["bwd_data"])[0]
    else:
        w_meta = torch.empty(L.w_shape, dtype=t["x"].dtype)

        def run():
            return back(t["dy"], t["x"], w_meta, None, stride, pad, dil, False, [0] * L.dims, p.groups,
                        mask["bwd_weight"])[1]
    return run, lambda r: r.numpy()


PREPARE = {"convbp": prepare_convbp, "numpy": prepare_numpy, "torch": prepare_torch}
