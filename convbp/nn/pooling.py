"""Max and average pooling (PyTorch's MaxPool1d/2d and AvgPool1d/2d semantics,
ceil_mode included) on NumPy arrays. Python checks the geometry and computes the
output size; the windows are computed in C++ (cpp/drivers/pool2d.cpp), which
clips each window to the input instead of padding it. Max pool backward sends
each output's gradient to the window's arg-max saved by forward; average pool
backward spreads it over the window. A 1-d pool is the 2-d one with a
height-1 window.
"""

from __future__ import annotations

import numpy as np

from .. import _args, _core
from ._util import check_grad_output, float_array, ntuple
from .module import Module


def _out_size(size, k, s, p, d, ceil_mode) -> int:
    """PyTorch's pooling output size; in ceil mode the last window must start inside
    the input or its left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Pool(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        n = self._nd
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = self.kernel_size if stride is None else ntuple(stride, n, "stride")
        self.padding = ntuple(padding, n, "padding")
        self.dilation = ntuple(dilation, n, "dilation")
        self.ceil_mode = bool(ceil_mode)
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"kernel_size={kernel_size!r}, stride={stride!r} and dilation={dilation!r} "
                             "must be >= 1")
        for k, p, d in zip(self.kernel_size, self.padding, self.dilation):
            if p < 0 or 2 * p > d * (k - 1) + 1:
                raise ValueError(f"padding={padding!r} must be >= 0 and at most half the (dilated) "
                                 f"kernel size {self.kernel_size!r}")

    def _geometry(self, shape):
        """2-d kernel, stride, padding, dilation for an input of ``shape``, as the height-1
        2-d case when the pool is 1-d; and the output size."""
        want = 2 + self._nd
        if len(shape) != want:
            layout = "(N, C, H, W)" if self._nd == 2 else "(N, C, L)"
            raise ValueError(f"{type(self).__name__} expects a {want}-D input {layout}, got shape {shape}")
        if self._nd == 2:
            k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
            size = tuple(shape[2:])
        else:
            k, s, d = (1,) + self.kernel_size, (1,) + self.stride, (1,) + self.dilation
            p, size = (0,) + self.padding, (1, shape[2])
        out = tuple(_out_size(size[i], k[i], s[i], p[i], d[i], self.ceil_mode) for i in range(2))
        if min(out) < 1:
            raise ValueError(f"{type(self).__name__}: input of shape {shape} is too small for "
                             f"kernel_size={self.kernel_size}, padding={self.padding}")
        return size, k, s, p, d, out

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + (f", dilation={self.dilation}" if max(self.dilation) > 1 else "")
                + (", ceil_mode=True" if self.ceil_mode else ""))


class MaxPool2d(_Pool):
    """Max over each window; padding never wins (it reads as -inf).
    x (N, C, H, W) -> (N, C, P, Q). Backward sends each output's gradient to the
    first maximal element of its window (row-major order; a NaN is maximal), adding
    where windows overlap, as PyTorch."""

    def forward(self, x):
        x = float_array(x, type(self).__name__)
        size, k, s, p, d, out = self._geometry(x.shape)
        x4 = _args.contiguous(x).reshape(x.shape[:2] + size)
        y, idx = _core.max_pool2d(x4, k, s, p, d, out)
        y = y.reshape(x.shape[:2] + out[2 - self._nd:])
        self._ctx = (x.shape, x4.shape, y.shape, x.dtype, idx, k, s, p, d)
        return y

    def backward(self, grad_output):
        shape, shape4, out_shape, dtype, idx, k, s, p, d = self._saved()
        g = check_grad_output(grad_output, out_shape, dtype, type(self).__name__)
        g = _args.contiguous(g).reshape(idx.shape)
        return _core.max_pool2d_backward(g, idx, shape4, k, s, p, d).reshape(shape)


class AvgPool2d(_Pool):
    """Mean over each window. x (N, C, H, W) -> (N, C, P, Q). The divisor is PyTorch's:
    the window clipped to the padded input (count_include_pad=True) or to the input
    (False), or divisor_override."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                             or divisor_override < 1):
            raise ValueError(f"divisor_override must be None or a positive int, got {divisor_override!r}")
        self.divisor_override = divisor_override

    def forward(self, x):
        x = float_array(x, type(self).__name__)
        size, k, s, p, _, out = self._geometry(x.shape)
        x4 = _args.contiguous(x).reshape(x.shape[:2] + size)
        y = _core.avg_pool2d(x4, k, s, p, out, self.count_include_pad, self.divisor_override or 0)
        y = y.reshape(x.shape[:2] + out[2 - self._nd:])
        self._ctx = (x.shape, x4.shape, y.shape, x.dtype, k, s, p, out)
        return y

    def backward(self, grad_output):
        shape, shape4, out_shape, dtype, k, s, p, out = self._saved()
        g = check_grad_output(grad_output, out_shape, dtype, type(self).__name__)
        g = _args.contiguous(g).reshape(shape4[:2] + out)
        return _core.avg_pool2d_backward(g, shape4, k, s, p, self.count_include_pad,
                                         self.divisor_override or 0).reshape(shape)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.count_include_pad else ", count_include_pad=False")


class MaxPool1d(MaxPool2d):
    """MaxPool2d's 1-d form: x (N, C, L) -> (N, C, Lout)."""
    _nd = 1


class AvgPool1d(AvgPool2d):
    """AvgPool2d's 1-d form: x (N, C, L) -> (N, C, Lout) (PyTorch's AvgPool1d has no
    divisor_override; passing it here works as in AvgPool2d)."""
    _nd = 1
