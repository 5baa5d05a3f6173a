"""Sequential: modules applied in order; backward runs them in reverse, each one
turning the sensitivity of its output into that of its input (seeds 000 eq. 8)."""

from __future__ import annotations

from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """``Sequential(m0, m1, ...)`` or ``Sequential(OrderedDict(name=module, ...))``.
    Parameters are named "<index or name>.<parameter>", as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: entry {name!r} is a {type(m).__name__}, not a Module")
            setattr(self, name, m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(mods[idx]))
        return mods[idx][1]

    def append(self, module: Module) -> "Sequential":
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: {type(module).__name__} is not a Module")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def backward(self, grad_output):
        g = grad_output
        items = list(self._modules.items())
        for i in range(len(items) - 1, -1, -1):
            name, m = items[i]
            g = m.backward(g)
            if g is None and i > 0:
                raise RuntimeError(f"Sequential.backward: layer {name!r} ({type(m).__name__}) returned no "
                                   f"grad_input (input_grad=False) but layer {items[i - 1][0]!r} needs it; "
                                   "set input_grad=False on the first layer only")
        return g
