"""Max and average pooling (PyTorch's MaxPool1d/2d and AvgPool1d/2d semantics,
ceil_mode included) on NumPy arrays. Each window is a strided view of the padded
input; backward scatters the output gradient back through the same windows: to
the arg-max of each window (max) or spread over it (average). A 1-d pool is the
2-d one with a height-1 window.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._util import float_array, ntuple
from .module import Module


def _out_size(size, k, s, p, d, ceil_mode) -> int:
    """PyTorch's pooling output size; in ceil mode the last window must start inside
    the input or its left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows(xp, out, k, s, d):
    """(N, C, P, Q, R, S) read-only view: window (p, q) of the padded input xp."""
    n, c, _, _ = xp.shape
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, shape=(n, c, out[0], out[1], k[0], k[1]),
                      strides=(sn, sc, s[0] * sh, s[1] * sw, d[0] * sh, d[1] * sw), writeable=False)


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

    @staticmethod
    def _pad(x4, size, k, s, p, d, out, value):
        """Pad to exactly the rows/columns the windows read (ceil mode can need more on
        the bottom/right than ``padding``)."""
        after = [max((out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size[i] - p[i], 0) for i in range(2)]
        return np.pad(x4, ((0, 0), (0, 0), (p[0], after[0]), (p[1], after[1])), constant_values=value)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + (f", dilation={self.dilation}" if max(self.dilation) > 1 else "")
                + (", ceil_mode=True" if self.ceil_mode else ""))


class MaxPool2d(_Pool):
    """Max over each window; padding reads as -inf. x (N, C, H, W) -> (N, C, P, Q).
    Backward sends each output's gradient to the first maximal element of its window
    (row-major order, as PyTorch), adding where windows overlap."""

    def forward(self, x):
        x = float_array(x, type(self).__name__)
        size, k, s, p, d, out = self._geometry(x.shape)
        x4 = x.reshape(x.shape[:2] + size)
        xp = self._pad(x4, size, k, s, p, d, out, -np.inf)
        win = _windows(xp, out, k, s, d).reshape(x.shape[:2] + out + (k[0] * k[1],))
        arg = win.argmax(axis=-1)
        y = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        self._ctx = (x.shape, xp.shape, arg, size, k, s, p, d, out)
        return y.reshape(x.shape[:2] + out[2 - self._nd:])

    def backward(self, grad_output):
        shape, pshape, arg, size, k, s, p, d, out = self._saved()
        g = np.asarray(grad_output)
        n, c, hp, wp = pshape
        # Flat index in the padded input of each window's arg-max.
        h = np.arange(out[0])[:, None] * s[0] + (arg // k[1]) * d[0]
        w = np.arange(out[1])[None, :] * s[1] + (arg % k[1]) * d[1]
        flat = (np.arange(n * c).reshape(n, c, 1, 1) * hp + h) * wp + w
        dxp = np.bincount(flat.ravel(), weights=g.reshape(-1), minlength=n * c * hp * wp)
        dx = dxp.reshape(pshape)[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
        return np.ascontiguousarray(dx, dtype=g.dtype).reshape(shape)


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

    def _divisor(self, size, k, s, p, out):
        counts = []
        for i in range(2):
            start = np.arange(out[i]) * s[i] - p[i]
            end = np.minimum(start + k[i], size[i] + p[i])
            if self.count_include_pad:
                counts.append(end - start)
            else:
                counts.append(np.minimum(end, size[i]) - np.maximum(start, 0))
        return np.outer(counts[0], counts[1])

    def forward(self, x):
        x = float_array(x, type(self).__name__)
        size, k, s, p, d, out = self._geometry(x.shape)
        x4 = x.reshape(x.shape[:2] + size)
        xp = self._pad(x4, size, k, s, p, d, out, 0)
        total = _windows(xp, out, k, s, d).sum(axis=(-2, -1))
        div = (self.divisor_override if self.divisor_override is not None
               else self._divisor(size, k, s, p, out).astype(x.dtype))
        y = (total / div).astype(x.dtype, copy=False)
        self._ctx = (x.shape, xp.shape, div, size, k, s, p, out)
        return y.reshape(x.shape[:2] + out[2 - self._nd:])

    def backward(self, grad_output):
        shape, pshape, div, size, k, s, p, out = self._saved()
        g = np.asarray(grad_output)
        g4 = (g.reshape(pshape[:2] + out) / div).astype(g.dtype, copy=False)
        dxp = np.zeros(pshape, g.dtype)
        for r in range(k[0]):              # each tap of the window receives g / divisor
            for t in range(k[1]):
                dxp[:, :, r:r + s[0] * (out[0] - 1) + 1:s[0], t:t + s[1] * (out[1] - 1) + 1:s[1]] += g4
        dx = dxp[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
        return np.ascontiguousarray(dx).reshape(shape)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.count_include_pad else ", count_include_pad=False")


class MaxPool1d(MaxPool2d):
    """MaxPool2d's 1-d form: x (N, C, L) -> (N, C, Lout)."""
    _nd = 1


class AvgPool1d(AvgPool2d):
    """AvgPool2d's 1-d form: x (N, C, L) -> (N, C, Lout) (PyTorch's AvgPool1d has no
    divisor_override; passing it here works as in AvgPool2d)."""
    _nd = 1
