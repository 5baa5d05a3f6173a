"""Parameter and Module: the layer contract of convbp.nn.

A Module's ``forward(x)`` computes its output and keeps what its ``backward``
needs; ``backward(grad_output)`` receives dL/d(output), *adds* dL/d(parameter) into
each parameter's ``.grad`` and returns dL/d(input). This is the sensitivity
recursion of shared/seeds 000 eqs. 6-8 split into one step per layer: each layer
maps the sensitivity of its output to the sensitivity of its input.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Iterator, Optional, Tuple

import numpy as np

from ._util import check_float_dtype

class Parameter:
    """A trainable array: ``.data`` (the value, a NumPy array) and ``.grad`` (None until
    a backward pass adds into it; then an array of ``.data``'s shape and dtype).

    ``requires_grad=False`` freezes it: backward passes leave ``.grad`` alone.
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data, requires_grad: bool = True):
        data = np.asarray(data)
        check_float_dtype(data.dtype, "Parameter data dtype")
        self.data = np.ascontiguousarray(data)
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def numel(self) -> int:
        return int(self.data.size)

    def accumulate_grad(self, g: np.ndarray) -> None:
        """Add ``g`` into ``.grad`` (gradients of a parameter used several times, or of
        several backward passes, add up, as in PyTorch)."""
        if not self.requires_grad:
            return
        if g.shape != self.data.shape:
            raise ValueError(f"gradient of shape {g.shape} for a parameter of shape {self.data.shape}")
        if self.grad is None:
            self.grad = np.array(g, dtype=self.data.dtype, copy=True)
        else:
            self.grad += g

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}, requires_grad={self.requires_grad})"


class Module:
    """Base class of layers and containers (PyTorch's names and behaviour).

    Subclasses assign Parameters and sub-Modules as attributes (they are registered in
    order) and implement ``forward`` and ``backward``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration ---------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call Module.__init__() "
                               "before assigning attributes")
        params, modules = self._parameters, self._modules
        if isinstance(value, Parameter):
            modules.pop(name, None)
            self.__dict__.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            self.__dict__.pop(name, None)
            modules[name] = value
        elif value is None and name in params:
            params[name] = None          # e.g. bias=False: registered, but absent
        elif value is None and name in modules:
            modules[name] = None
        else:
            if name in params or name in modules:
                raise TypeError(f"cannot assign {type(value).__name__} to {name!r}: it holds a "
                                "Parameter/Module (assign a Parameter, a Module or None)")
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters and sub-modules live here.
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # -- the layer contract ---------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _saved(self):
        """What forward() cached for backward(), or a clear error if forward never ran."""
        ctx = self.__dict__.get("_ctx")
        if ctx is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return ctx

    # -- traversal ------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[Tuple[str, "Module"]]:
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def children(self) -> Iterator["Module"]:
        return (m for m in self._modules.values() if m is not None)

    def named_parameters(self, prefix: str = "") -> Iterator[Tuple[str, Parameter]]:
        seen = set()
        for mname, m in self.named_modules(prefix):
            for pname, p in m._parameters.items():
                if p is not None and id(p) not in seen:   # a shared parameter is listed once
                    seen.add(id(p))
                    yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    # -- training helpers -----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None by default, as PyTorch does)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.fill(0)

    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def to(self, dtype) -> "Module":
        """Cast every parameter to ``dtype`` (float32 or float64) in place; gradients are
        dropped. Returns self."""
        dt = check_float_dtype(dtype)
        for p in self.parameters():
            if p.data.dtype != dt:
                p.data = p.data.astype(dt)
                p.grad = None
        return self

    def float(self) -> "Module":
        return self.to(np.float32)

    def double(self) -> "Module":
        return self.to(np.float64)

    # -- state ----------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """name -> a copy of the parameter's value (names as in PyTorch: "0.weight")."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into the parameters (in place, keeping their dtype; values are
        cast with NumPy's "same_kind" rule, so float64 -> float32 works). Anything
        np.asarray accepts is a value, CPU torch tensors included.

        With ``strict`` a missing or unexpected name is a KeyError; a shape mismatch is
        always a ValueError. Returns (missing_keys, unexpected_keys)."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, p in own.items():
            if name not in state_dict:
                continue
            v = np.asarray(state_dict[name])
            if v.shape != p.data.shape:
                raise ValueError(f"load_state_dict: {name!r} has shape {v.shape}, "
                                 f"the parameter has shape {p.data.shape}")
            np.copyto(p.data, v, casting="same_kind")
        return missing, unexpected

    def save(self, path) -> None:
        """Write ``state_dict()`` to an uncompressed ``.npz`` file (``np.savez``: a path
        without the ``.npz`` suffix gets it; ``load`` takes the same path)."""
        np.savez(path, **self.state_dict())

    def load(self, path, strict: bool = True):
        """Read a ``.npz`` written by ``save`` into the parameters (see load_state_dict).
        ``path`` is the one given to ``save``: when no file has that name and it lacks
        the ``.npz`` suffix, the file ``path + ".npz"`` (which ``save`` wrote) is read."""
        if isinstance(path, (str, os.PathLike)):
            name = os.fspath(path)
            if (isinstance(name, str) and not name.endswith(".npz") and not os.path.exists(name)
                    and os.path.exists(name + ".npz")):
                path = name + ".npz"
        with np.load(path, allow_pickle=False) as f:
            return self.load_state_dict({k: f[k] for k in f.files}, strict=strict)

    # -- printing -------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
