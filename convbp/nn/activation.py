"""Element-wise activations. Backward is the theta'(s) (x) [...] factor of the
sensitivity recursion (shared/seeds 000 eq. 8; 001 eq. 11 with sigma' for sigma):
grad_input = grad_output * theta'(s), s being the activation's input."""

from __future__ import annotations

import numpy as np

from ._util import check_grad_output, float_array
from .module import Module


class ReLU(Module):
    """max(s, 0); theta'(s) = 1 where s > 0, else 0 (PyTorch's choice at s = 0)."""

    def forward(self, x):
        x = float_array(x, "ReLU")
        self._ctx = (x > 0, x.dtype)
        return np.maximum(x, x.dtype.type(0))     # NaN stays NaN, as in PyTorch

    def backward(self, grad_output):
        mask, dtype = self._saved()
        g = check_grad_output(grad_output, mask.shape, dtype, "ReLU")
        return np.where(mask, g, g.dtype.type(0))


class LeakyReLU(Module):
    """s for s > 0, negative_slope * s otherwise; theta' is 1 or negative_slope."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        x = float_array(x, "LeakyReLU")
        mask = x > 0
        self._ctx = (mask, x.dtype)
        return np.where(mask, x, x * x.dtype.type(self.negative_slope))

    def backward(self, grad_output):
        mask, dtype = self._saved()
        g = check_grad_output(grad_output, mask.shape, dtype, "LeakyReLU")
        return np.where(mask, g, g * g.dtype.type(self.negative_slope))

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """y = 1 / (1 + exp(-s)); theta'(s) = y (1 - y), from the cached output."""

    def forward(self, x):
        x = float_array(x, "Sigmoid")
        # exp of a non-positive number only: no overflow for large |s|.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        self._ctx = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        g = check_grad_output(grad_output, y.shape, y.dtype, "Sigmoid")
        return g * (y * (1 - y))


class Tanh(Module):
    """y = tanh(s); theta'(s) = 1 - y^2, from the cached output."""

    def forward(self, x):
        y = np.tanh(float_array(x, "Tanh"))
        self._ctx = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        g = check_grad_output(grad_output, y.shape, y.dtype, "Tanh")
        return g * (1 - y * y)
