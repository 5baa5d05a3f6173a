"""Linear: the fully connected layer of shared/seeds 000.

The seed writes s = W^T x (eq. 5) with W of shape (in, out); we store PyTorch's
weight (out, in) = W^T, so for a batch of rows x (N, in):

    forward   y  = x weight^T + bias                     (eq. 5, plus bias)
    backward  dW = dy^T x        (eq. 7: de/dW = x delta^T, transposed to our layout)
              db = sum_n dy
              dx = dy weight     (eq. 8 before the activation's theta' factor, which the
                                  activation layer applies)

The products run on convbp's GEMM (the one the convolutions use), the transposes
folded into its packing: a network of convbp layers then uses one OpenMP thread
pool, not that and NumPy's BLAS pool, which compete for the cores between calls.
"""

from __future__ import annotations

import numpy as np

from .. import _args, _core
from . import init
from ._util import check_float_dtype, check_grad_output, float_array
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias; weight (out_features, in_features), bias (out_features,).

    forward: x (*, in_features) of the parameters' dtype -> y (*, out_features);
    backward: dy (*, out_features) -> dx (*, in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        dt = check_float_dtype(dtype)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dt))
        self.bias = Parameter(np.empty(self.out_features, dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default init: U(-1/sqrt(in_features), 1/sqrt(in_features))."""
        init.default_layer_init_(self.weight, self.bias, generator)

    def forward(self, x):
        x = float_array(x, "Linear")
        w = _args.contiguous(self.weight.data)  # .data may have been assigned any layout or byte order
        if x.dtype != w.dtype:
            raise TypeError(f"x has dtype {x.dtype} but weight has dtype {w.dtype}: convbp never casts; "
                            "convert one of them explicitly")
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}) expects x of shape "
                             f"(*, {self.in_features}), got {x.shape}")
        x2 = _args.contiguous(x.reshape(-1, self.in_features))
        y = _core.gemm(x2, w, trans_b=True)
        if self.bias is not None:
            y += self.bias.data
        out_shape = x.shape[:-1] + (self.out_features,)
        self._ctx = (x2, out_shape)
        return y.reshape(out_shape)

    def backward(self, grad_output):
        x2, out_shape = self._saved()
        dy = check_grad_output(grad_output, out_shape, x2.dtype, "Linear")
        dy2 = _args.contiguous(dy.reshape(-1, self.out_features))
        if self.weight.requires_grad:
            self.weight.accumulate_grad(_core.gemm(dy2, x2, trans_a=True))     # eq. 7
        if self.bias is not None and self.bias.requires_grad:
            self.bias.accumulate_grad(_core.backward_bias(dy2))
        dx = _core.gemm(dy2, _args.contiguous(self.weight.data))            # eq. 8 (W delta)
        return dx.reshape(dy.shape[:-1] + (self.in_features,))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
