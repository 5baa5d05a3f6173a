"""The public convolution functions. One generic implementation serves conv1d and
conv2d: a conv1d is run as the conv2d with H = R = 1 (a free reshape)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from . import _args, _core


@dataclass(frozen=True)
class _Spec:
    name: str
    ndim: int             # of x, weight and y
    x_layout: str
    w_layout: str
    y_layout: str
    params: Callable      # (input_shape, weight_shape, stride, padding, dilation, groups) -> ConvParams

    def out_shape(self, p) -> tuple:
        return (p.N, p.K, p.P, p.Q) if self.ndim == 4 else (p.N, p.K, p.Q)

    def to4d(self, a: np.ndarray) -> np.ndarray:
        return a if self.ndim == 4 else a.reshape(a.shape[0], a.shape[1], 1, a.shape[2])

    def from4d(self, a: np.ndarray) -> np.ndarray:
        return a if self.ndim == 4 else a.reshape(a.shape[0], a.shape[1], a.shape[3])


_2D = _Spec("conv2d", 4, "(N, C, H, W)", "(K, C/groups, R, S)", "(N, K, P, Q)", _args.params2d)
_1D = _Spec("conv1d", 3, "(N, C, L)", "(K, C/groups, S)", "(N, K, Lout)", _args.params1d)


def _array(a, name: str, spec: _Spec, layout: str) -> np.ndarray:
    a = _args.as_float_array(a, name)
    _args.check_ndim(a, spec.ndim, name, layout)
    return a


def _check_grad_output(dy: np.ndarray, spec: _Spec, p) -> None:
    expected = spec.out_shape(p)
    if tuple(dy.shape) != expected:
        raise ValueError(f"grad_output has shape {tuple(dy.shape)} but this convolution's output "
                         f"{spec.y_layout} has shape {expected}")


def _forward(spec, x, weight, bias, stride, padding, dilation, groups, algo):
    x = _array(x, "x", spec, spec.x_layout)
    weight = _array(weight, "weight", spec, spec.w_layout)
    _args.check_same_dtype(x, "x", weight, "weight")
    algo = _args.check_algo(algo)
    p = spec.params(x.shape, weight.shape, stride, padding, dilation, groups)
    if bias is not None:
        bias = _args.as_float_array(bias, "bias")
        _args.check_same_dtype(x, "x", bias, "bias")
        if bias.shape != (p.K,):
            raise ValueError(f"bias must have shape (K,) = ({p.K},), got {tuple(bias.shape)}")
        bias = _args.contiguous(bias)
    y = _core.forward(p, spec.to4d(_args.contiguous(x)), spec.to4d(_args.contiguous(weight)), bias, algo)
    return spec.from4d(y)


def _backward_input(spec, grad_output, weight, input_shape, stride, padding, dilation, groups, algo):
    dy = _array(grad_output, "grad_output", spec, spec.y_layout)
    weight = _array(weight, "weight", spec, spec.w_layout)
    _args.check_same_dtype(weight, "weight", dy, "grad_output")
    input_shape = _args.as_shape(input_shape, spec.ndim, "input_shape", spec.x_layout)
    algo = _args.check_algo(algo)
    p = spec.params(input_shape, weight.shape, stride, padding, dilation, groups)
    _check_grad_output(dy, spec, p)
    dx = _core.backward_input(p, spec.to4d(_args.contiguous(dy)), spec.to4d(_args.contiguous(weight)), algo)
    return spec.from4d(dx)


def _backward_weight(spec, x, grad_output, weight_shape, stride, padding, dilation, groups, algo):
    x = _array(x, "x", spec, spec.x_layout)
    dy = _array(grad_output, "grad_output", spec, spec.y_layout)
    _args.check_same_dtype(x, "x", dy, "grad_output")
    weight_shape = _args.as_shape(weight_shape, spec.ndim, "weight_shape", spec.w_layout)
    algo = _args.check_algo(algo)
    p = spec.params(x.shape, weight_shape, stride, padding, dilation, groups)
    _check_grad_output(dy, spec, p)
    dw = _core.backward_weight(p, spec.to4d(_args.contiguous(x)), spec.to4d(_args.contiguous(dy)), algo)
    return dw.reshape(weight_shape)


def _backward_bias(spec, grad_output):
    dy = _array(grad_output, "grad_output", spec, spec.y_layout)
    return _core.backward_bias(_args.contiguous(dy))


_NEEDS = ("input", "weight", "bias")


def _parse_need(need) -> frozenset:
    if isinstance(need, str):
        need = (need,)
    try:
        items = list(need)
    except TypeError:
        raise TypeError(f"need must be a sequence of names from {_NEEDS}, got {need!r}") from None
    bad = [n for n in items if n not in _NEEDS]
    if bad:
        raise ValueError(f"need contains {bad!r}; allowed names are {_NEEDS}")
    return frozenset(items)


def _backward(spec, x, weight, grad_output, stride, padding, dilation, groups, need, algo):
    need = _parse_need(need)
    x = _array(x, "x", spec, spec.x_layout)
    weight = _array(weight, "weight", spec, spec.w_layout)
    dy = _array(grad_output, "grad_output", spec, spec.y_layout)
    _args.check_same_dtype(x, "x", weight, "weight")
    _args.check_same_dtype(x, "x", dy, "grad_output")
    algo = _args.check_algo(algo)
    p = spec.params(x.shape, weight.shape, stride, padding, dilation, groups)
    _check_grad_output(dy, spec, p)
    x4, w4, dy4 = (spec.to4d(_args.contiguous(a)) for a in (x, weight, dy))
    gi = spec.from4d(_core.backward_input(p, dy4, w4, algo)) if "input" in need else None
    gw = _core.backward_weight(p, x4, dy4, algo).reshape(weight.shape) if "weight" in need else None
    gb = _core.backward_bias(dy4) if "bias" in need else None
    return gi, gw, gb


_COMMON = """
    stride : int or pair, >= 1.
    padding : int, pair (ph, pw) applied to both sides, 4-tuple (top, bottom, left,
        right), or one of "valid", "same" (output ceil(H / stride); an odd total puts
        the extra row/column at the bottom/right), "same_lower" (the extra at the
        top/left) or "full" (dilation * (kernel - 1) on every side).
    dilation : int or pair, >= 1.
    groups : int >= 1 dividing C and K; C == weight.shape[1] * groups.
    algo : "auto" or a route name (see ``convbp.explain``)."""

_COMMON_1D = """
    stride, dilation : int (or a 1-tuple), >= 1.
    padding : int, pair (left, right), or one of "valid", "same", "same_lower", "full"
        (as for conv2d, on the one axis).
    groups : int >= 1 dividing C and K; C == weight.shape[1] * groups.
    algo : "auto" or a route name (see ``convbp.explain``)."""

_INPUTS_NOTE = """
    Inputs must be float32 or float64 and of one dtype; they are never modified.
    Non-contiguous or non-native-endian inputs are copied to a C-contiguous array
    first. The result is a new C-contiguous array of the input dtype."""


def _doc(f):
    """Fill the shared argument text into a public function's docstring."""
    f.__doc__ = (f.__doc__.replace("    %COMMON_1D%", _COMMON_1D.strip("\n"))
                 .replace("    %COMMON%", _COMMON.strip("\n"))
                 .replace("    %INPUTS%", _INPUTS_NOTE.strip("\n")))
    return f


@_doc
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algo="auto") -> np.ndarray:
    """2-D convolution (cross-correlation, the deep-learning convention).

    y[n,k,p,q] = bias[k] + sum_{c,r,s} weight[k,c,r,s] * x[n, g(k)*C/groups + c,
    p*sh + r*dh - top, q*sw + s*dw - left], x read as 0 outside its bounds.

    Parameters
    ----------
    x : array (N, C, H, W)
    weight : array (K, C/groups, R, S)
    bias : array (K,) or None
    %COMMON%

    Returns
    -------
    y : array (N, K, P, Q), P = (H + top + bottom - dh*(R-1) - 1) // sh + 1.
    %INPUTS%
    """
    return _forward(_2D, x, weight, bias, stride, padding, dilation, groups, algo)


@_doc
def conv2d_backward_input(grad_output, weight, input_shape, stride=1, padding=0, dilation=1, groups=1, *,
                          algo="auto") -> np.ndarray:
    """Gradient of conv2d with respect to its input.

    The full correlation of the stride-dilated grad_output with the rot180 kernel,
    transposed over channels (shared/seeds 001 eqs. 24-29).

    Parameters
    ----------
    grad_output : array (N, K, P, Q)
    weight : array (K, C/groups, R, S)
    input_shape : (N, C, H, W) of the forward input (it disambiguates H when stride > 1)
    %COMMON%

    Returns
    -------
    grad_input : array (N, C, H, W)
    %INPUTS%
    """
    return _backward_input(_2D, grad_output, weight, input_shape, stride, padding, dilation, groups, algo)


@_doc
def conv2d_backward_weight(x, grad_output, weight_shape, stride=1, padding=0, dilation=1, groups=1, *,
                           algo="auto") -> np.ndarray:
    """Gradient of conv2d with respect to its weight.

    The correlation of the padded input with the stride-dilated grad_output
    (shared/seeds 001 eq. 15), summed over the batch.

    Parameters
    ----------
    x : array (N, C, H, W)
    grad_output : array (N, K, P, Q)
    weight_shape : (K, C/groups, R, S)
    %COMMON%

    Returns
    -------
    grad_weight : array (K, C/groups, R, S)
    %INPUTS%
    """
    return _backward_weight(_2D, x, grad_output, weight_shape, stride, padding, dilation, groups, algo)


@_doc
def conv2d_backward_bias(grad_output) -> np.ndarray:
    """Gradient of conv2d with respect to its bias: grad_output (N, K, P, Q) summed
    over N, P and Q, giving (K,)."""
    return _backward_bias(_2D, grad_output)


@_doc
def conv2d_backward(x, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                    need: Sequence[str] = ("input", "weight", "bias"),
                    algo="auto") -> Tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]:
    """All requested gradients of conv2d in one call.

    Parameters
    ----------
    x : array (N, C, H, W)
    weight : array (K, C/groups, R, S)
    grad_output : array (N, K, P, Q)
    need : names from ("input", "weight", "bias"); gradients not named come back as None.
    %COMMON%

    Returns
    -------
    (grad_input (N, C, H, W), grad_weight (K, C/groups, R, S), grad_bias (K,)), None for
    what was not asked.
    %INPUTS%
    """
    return _backward(_2D, x, weight, grad_output, stride, padding, dilation, groups, need, algo)


@_doc
def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algo="auto") -> np.ndarray:
    """1-D convolution (cross-correlation).

    Parameters
    ----------
    x : array (N, C, L)
    weight : array (K, C/groups, S)
    bias : array (K,) or None
    %COMMON_1D%

    Returns
    -------
    y : array (N, K, Lout), Lout = (L + left + right - dilation*(S-1) - 1) // stride + 1.
    %INPUTS%
    """
    return _forward(_1D, x, weight, bias, stride, padding, dilation, groups, algo)


@_doc
def conv1d_backward_input(grad_output, weight, input_shape, stride=1, padding=0, dilation=1, groups=1, *,
                          algo="auto") -> np.ndarray:
    """Gradient of conv1d with respect to its input.

    Parameters
    ----------
    grad_output : array (N, K, Lout)
    weight : array (K, C/groups, S)
    input_shape : (N, C, L)
    %COMMON_1D%

    Returns
    -------
    grad_input : array (N, C, L)
    %INPUTS%
    """
    return _backward_input(_1D, grad_output, weight, input_shape, stride, padding, dilation, groups, algo)


@_doc
def conv1d_backward_weight(x, grad_output, weight_shape, stride=1, padding=0, dilation=1, groups=1, *,
                           algo="auto") -> np.ndarray:
    """Gradient of conv1d with respect to its weight.

    Parameters
    ----------
    x : array (N, C, L)
    grad_output : array (N, K, Lout)
    weight_shape : (K, C/groups, S)
    %COMMON_1D%

    Returns
    -------
    grad_weight : array (K, C/groups, S)
    %INPUTS%
    """
    return _backward_weight(_1D, x, grad_output, weight_shape, stride, padding, dilation, groups, algo)


@_doc
def conv1d_backward_bias(grad_output) -> np.ndarray:
    """Gradient of conv1d with respect to its bias: grad_output (N, K, Lout) summed over
    N and Lout, giving (K,)."""
    return _backward_bias(_1D, grad_output)


@_doc
def conv1d_backward(x, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                    need: Sequence[str] = ("input", "weight", "bias"),
                    algo="auto") -> Tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]:
    """All requested gradients of conv1d in one call.

    Parameters
    ----------
    x : array (N, C, L)
    weight : array (K, C/groups, S)
    grad_output : array (N, K, Lout)
    need : names from ("input", "weight", "bias"); gradients not named come back as None.
    %COMMON_1D%

    Returns
    -------
    (grad_input (N, C, L), grad_weight (K, C/groups, S), grad_bias (K,)), None for what
    was not asked.
    %INPUTS%
    """
    return _backward(_1D, x, weight, grad_output, stride, padding, dilation, groups, need, algo)
