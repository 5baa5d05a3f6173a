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
        # A module may appear at several positions (Sequential(l, l)) or inside a
        # sub-module appearing at several; its _ctx holds only its last forward. So
        # after each position's forward, keep what it and its descendants cached,
        # and backward restores that before running the position's backward.
        snapshots = []
        for m in self._modules.values():
            x = m(x)
            snapshots.append(_ctx_snapshot(m))
        self._ctx = snapshots        # a new list each forward: a parent's snapshot keeps the old one
        return x

    def backward(self, grad_output):
        snapshots = self._saved()
        g = grad_output
        items = list(self._modules.items())
        if len(snapshots) != len(items):
            raise RuntimeError(f"Sequential.backward: the forward ran {len(snapshots)} modules but the "
                               f"Sequential now holds {len(items)}; run forward again")
        for i in range(len(items) - 1, -1, -1):
            name, m = items[i]
            _ctx_restore(snapshots[i])
            g = m.backward(g)
            if g is None and i > 0:
                raise RuntimeError(f"Sequential.backward: layer {name!r} ({type(m).__name__}) returned no "
                                   f"grad_input (input_grad=False) but layer {items[i - 1][0]!r} needs it; "
                                   "set input_grad=False on the first layer only")
        return g


def _ctx_snapshot(module: Module) -> list:
    """(module, its ``_ctx``) for ``module`` and each of its descendants, once each:
    references to what their forwards cached, no copies."""
    seen, out = set(), []
    for _, m in module.named_modules():
        if id(m) not in seen:
            seen.add(id(m))
            out.append((m, m.__dict__.get("_ctx")))
    return out


def _ctx_restore(snapshot: list) -> None:
    """Put back the ``_ctx`` each module had when ``snapshot`` was taken (none: removed)."""
    for m, ctx in snapshot:
        if ctx is None:
            m.__dict__.pop("_ctx", None)
        else:
            m.__dict__["_ctx"] = ctx
