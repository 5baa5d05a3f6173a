"""Optimizers for convbp.nn parameters (PyTorch's ``torch.optim.SGD`` and ``Adam``
update rules). ``step()`` updates every parameter that has a ``.grad`` in place.

The plain step is shared/seeds 003's update W <- W - lr * dW; momentum, weight
decay and Adam's moment estimates only change which dW is used.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .nn.module import Parameter


class Optimizer:
    """Holds parameter groups (a list of dicts: "params" plus hyper-parameters) and
    per-parameter state, as PyTorch does."""

    def __init__(self, params, defaults: dict):
        if isinstance(params, Parameter):
            raise TypeError("params must be an iterable of Parameters or of dicts, not one Parameter")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        for g in groups:
            g = dict(g)
            ps = list(g["params"])
            for p in ps:
                if not isinstance(p, Parameter):
                    raise TypeError(f"optimizer params must be convbp.nn.Parameter, got {type(p).__name__}")
            g["params"] = ps
            for k, v in self.defaults.items():
                g.setdefault(k, v)
            self.param_groups.append(g)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.fill(0)

    def _state(self, p: Parameter) -> dict:
        return self.state.setdefault(id(p), {})

    def step(self) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None and p.requires_grad:
                    self._update(p, p.grad, g, self._state(p))

    def _update(self, p, grad, group, state):
        raise NotImplementedError


def _is_real(value) -> bool:
    """A real number: int, float, NumPy's integer and floating scalars (anything
    registered as numbers.Real), but not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check(name, value, low=0.0) -> float:
    """``value`` as a Python float if it is a real number >= ``low``, else ValueError.
    (A float, not the NumPy scalar given: an np.float32 would make the update's
    arithmetic float32 even for float64 parameters.)"""
    if not (_is_real(value) and value >= low):
        raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    return float(value)


def _check_betas(betas) -> tuple:
    """Adam's (beta1, beta2): a pair of real numbers, each in [0, 1)."""
    msg = f"betas must be a pair (beta1, beta2) of numbers in [0, 1), got {betas!r}"
    if not isinstance(betas, (tuple, list)) or not all(_is_real(b) for b in betas):
        raise TypeError(msg)
    if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
        raise ValueError(msg)
    return tuple(float(b) for b in betas)


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule::

        g = dW + weight_decay * W
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf      (when momentum != 0)
        W <- W - lr * g                                 (seed 003)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        lr, momentum, weight_decay = (_check(name, v) for name, v in
                                      (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)))
        if not _is_real(dampening):
            raise ValueError(f"dampening must be a number, got {dampening!r}")
        dampening = float(dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p, grad, group, state):
        g = grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        mu = group["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), PyTorch's rule::

        g = dW + weight_decay * W;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
        W <- W - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        lr, eps, weight_decay = _check("lr", lr), _check("eps", eps), _check("weight_decay", weight_decay)
        betas = _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, grad, group, state):
        b1, b2 = group["betas"]
        g = grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step_size = group["lr"] / (1 - b1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + group["eps"]
        p.data -= step_size * (m / denom)
