"""Conv1d and Conv2d layers over convbp's functional API.

forward:  y = conv(x, W) + b                       (shared/seeds 001 eq. 6)
backward: dx = full correlation of the stride-dilated dy with rot180(W) (001 eqs. 24-29),
          dW += x correlated with the stride-dilated dy (001 eq. 15), db += sum of dy,
both from one ``convbp.conv*d_backward(..., need=...)`` call.
"""

from __future__ import annotations

import numpy as np

from .. import conv1d, conv1d_backward, conv2d, conv2d_backward
from . import init
from ._util import check_float_dtype, check_grad_output, ntuple
from .module import Module, Parameter


class _ConvNd(Module):
    _nd = 0
    _forward = _backward = None   # the functional pair, set by subclasses

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=np.float32, *, algo="auto"):
        super().__init__()
        n = self._nd
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode={padding_mode!r}: convbp.nn convolutions pad with zeros only "
                             "(convbp.torch's drop-ins accept every PyTorch padding_mode)")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        if min(self.kernel_size) < 1:
            raise ValueError(f"kernel_size must be >= 1, got {kernel_size!r}")
        self.stride, self.dilation = stride, dilation
        self.padding, self.padding_mode, self.algo = padding, padding_mode, algo
        # False: backward skips grad_input and returns None. For a network's first
        # layer, whose input is data (PyTorch skips it there because the input does
        # not require grad); it saves the costliest of the three passes there.
        self.input_grad = True
        dt = check_float_dtype(dtype)
        # PyTorch's weight layout (K, C/groups, *kernel).
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // self.groups)
                                         + self.kernel_size, dt))
        self.bias = Parameter(np.empty(self.out_channels, dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias."""
        init.default_layer_init_(self.weight, self.bias, generator)

    def _conv_args(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups, algo=self.algo)

    def forward(self, x):
        """x: (N, C, *spatial) of the parameters' dtype -> (N, K, *out_spatial)."""
        b = None if self.bias is None else self.bias.data
        y = type(self)._forward(x, self.weight.data, b, **self._conv_args())
        self._ctx = (x, y.shape, y.dtype)
        return y

    def backward(self, grad_output):
        """grad_output (N, K, *out_spatial) -> grad_input (N, C, *spatial), or None when
        ``self.input_grad`` is False; adds into weight.grad and bias.grad."""
        x, out_shape, dtype = self._saved()
        grad_output = check_grad_output(grad_output, out_shape, dtype, type(self).__name__)
        need = ["input"] if self.input_grad else []
        if self.weight.requires_grad:
            need.append("weight")
        if self.bias is not None and self.bias.requires_grad:
            need.append("bias")
        gi, gw, gb = type(self)._backward(x, self.weight.data, grad_output, need=need, **self._conv_args())
        if gw is not None:
            self.weight.accumulate_grad(gw)
        if gb is not None:
            self.bias.accumulate_grad(gb)
        return gi

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != 0:
            s += f", padding={self.padding!r}"
        if self.dilation != 1:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer (cross-correlation), PyTorch's ``nn.Conv2d`` on NumPy arrays.

    Parameters: weight (out_channels, in_channels/groups, kH, kW), bias (out_channels,).
    ``stride``, ``padding``, ``dilation``, ``groups`` and ``algo`` are passed to
    ``convbp.conv2d`` unchanged, so every form it accepts works ("same" for any
    stride, 4-tuple padding, ...). ``dtype`` (float32 or float64) is the parameters'
    dtype; inputs must have it (convbp never casts).

    forward: x (N, C, H, W) -> y (N, K, P, Q); backward: dy (N, K, P, Q) -> dx (N, C, H, W).
    """
    _nd = 2
    _forward = staticmethod(conv2d)
    _backward = staticmethod(conv2d_backward)


class Conv1d(_ConvNd):
    """1-D convolution layer, PyTorch's ``nn.Conv1d`` on NumPy arrays.

    Parameters: weight (out_channels, in_channels/groups, k), bias (out_channels,).
    forward: x (N, C, L) -> y (N, K, Lout); backward: dy (N, K, Lout) -> dx (N, C, L).
    """
    _nd = 1
    _forward = staticmethod(conv1d)
    _backward = staticmethod(conv1d_backward)
