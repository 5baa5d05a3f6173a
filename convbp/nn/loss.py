"""Losses. ``forward`` returns the loss (a NumPy scalar of the input dtype for the
"mean" and "sum" reductions) and caches what ``backward`` needs; ``backward()``
returns dL/d(input), the sensitivity that starts the backward pass of the network
(shared/seeds 000 eq. 8 at the last layer)."""

from __future__ import annotations

import numpy as np

from ._util import float_array
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is not one of {_REDUCTIONS}")
    return reduction


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = _check_reduction(reduction)

    def _reduce(self, per_element: np.ndarray):
        if self.reduction == "mean":
            return per_element.dtype.type(per_element.mean()) if per_element.size else per_element.dtype.type(np.nan)
        if self.reduction == "sum":
            return per_element.dtype.type(per_element.sum())
        return per_element

    def _upstream(self, grad_output, loss_shape, dtype):
        """dL/d(loss element) for each element: the reduction's own factor times the
        caller's grad_output (1 by default). For "none" grad_output is a scalar (the same
        factor for every element) or an array of exactly the loss's shape, never one
        that merely broadcasts to it."""
        g = np.asarray(grad_output, dtype=dtype)
        if self.reduction == "none":
            if g.ndim != 0 and g.shape != tuple(loss_shape):
                raise ValueError(f"grad_output has shape {g.shape} but {type(self).__name__}'s forward "
                                 f"output (reduction='none') has shape {tuple(loss_shape)}; pass a scalar "
                                 "or an array of that shape")
            g = np.broadcast_to(g, loss_shape)
        elif g.ndim != 0:
            raise ValueError(f"grad_output must be a scalar for reduction={self.reduction!r}, "
                             f"got shape {g.shape}")
        if self.reduction == "mean":
            g = g / dtype.type(max(int(np.prod(loss_shape)), 1))
        return g

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross entropy from logits and integer class labels (PyTorch's
    ``nn.CrossEntropyLoss`` without class weights, ignore_index or label smoothing).

    forward(input, target): input (N, C) or (N, C, d1, ...) logits; target (N,) or
    (N, d1, ...) integers in [0, C). loss_i = logsumexp(input_i) - input_i[target_i].
    backward(grad_output=1): dL/d(input) = (softmax(input) - onehot(target)) / count
    for "mean" (count = N * d1 * ...), without the division for "sum".
    """

    def forward(self, input, target):
        z = float_array(input, "input")
        t = np.asarray(target)
        if z.ndim < 2:
            raise ValueError(f"input must be (N, C) or (N, C, d1, ...) logits, got shape {z.shape}")
        if t.dtype.kind not in "iu":
            raise TypeError(f"target must hold integer class labels, got dtype {t.dtype}")
        if t.shape != z.shape[:1] + z.shape[2:]:
            raise ValueError(f"target has shape {t.shape}; for input {z.shape} it must be "
                             f"{z.shape[:1] + z.shape[2:]}")
        C = z.shape[1]
        if t.size and (t.min() < 0 or t.max() >= C):
            raise ValueError(f"target holds labels outside [0, {C}): min {t.min()}, max {t.max()}")
        z2 = np.moveaxis(z, 1, -1).reshape(-1, C)
        t1 = t.reshape(-1).astype(np.intp)
        shifted = z2 - z2.max(axis=1, keepdims=True)          # stable log-softmax
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(t1.size)
        per = -logp[rows, t1]
        self._ctx = (np.exp(logp), t1, z.shape, t.shape)
        return self._reduce(per.reshape(t.shape))

    def backward(self, grad_output=1.0):
        p, t1, zshape, tshape = self._saved()
        up = self._upstream(grad_output, tshape, p.dtype)
        g = p.copy()
        g[np.arange(t1.size), t1] -= 1                        # softmax - onehot
        g *= np.reshape(up, (-1, 1)) if np.ndim(up) else up
        C = zshape[1]
        return np.moveaxis(g.reshape(zshape[:1] + zshape[2:] + (C,)), -1, 1)


class MSELoss(_Loss):
    """Mean squared error: forward(input, target), both of one shape and float dtype;
    backward(grad_output=1): dL/d(input) = 2 (input - target) / count for "mean"."""

    def forward(self, input, target):
        x = float_array(input, "input")
        y = float_array(target, "target")
        if x.shape != y.shape:
            raise ValueError(f"input has shape {x.shape} but target has shape {y.shape}")
        if x.dtype != y.dtype:
            raise TypeError(f"input has dtype {x.dtype} but target has dtype {y.dtype}: convbp never casts")
        diff = x - y
        self._ctx = diff
        return self._reduce(diff * diff)

    def backward(self, grad_output=1.0):
        diff = self._saved()
        return (2 * diff) * self._upstream(grad_output, diff.shape, diff.dtype)
