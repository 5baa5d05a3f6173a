"""Shape suites: real network layers, read from ``suites.json``.

The data lives in the repository's ``benchmarks/suites.json``; the wheel carries a copy
as ``convbp/bench/suites.json`` (CMakeLists.txt installs it), so the suites work after a
plain ``pip install .``. The installed copy is looked up first, then the repository's.

    >>> from convbp.bench import suites
    >>> s = suites.get("quick")
    >>> s.batch, s.layers[0].name, s.layers[0].x_shape(s.batch)
    (1, 'resnet.stem', (1, 3, 224, 224))
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from .. import _args

FILE_NAME = "suites.json"
_HERE = Path(__file__).resolve().parent
# Installed wheel first, then the source tree (in-place dev build).
SEARCH_PATH = (_HERE / FILE_NAME, _HERE.parent.parent / "benchmarks" / FILE_NAME)

_LAYER_KEYS = {"name", "family", "in", "out", "kernel", "stride", "padding", "dilation", "groups", "count"}
_SUITE_KEYS = {"batch", "layers", "about"}


@dataclass(frozen=True)
class Layer:
    """One convolution layer's geometry without the batch size.

    ``in_shape`` is (C, H, W) for conv2d or (C, L) for conv1d; ``kernel`` (R, S) or (S,).
    ``padding`` is kept as written (an int, a list or a string) and passed to convbp as is.
    """

    name: str
    family: str
    in_shape: Tuple[int, ...]
    out: int
    kernel: Tuple[int, ...]
    stride: Union[int, Tuple[int, ...]] = 1
    padding: Union[int, str, Tuple[int, ...]] = 0
    dilation: Union[int, Tuple[int, ...]] = 1
    groups: int = 1
    count: Dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def dims(self) -> int:
        """Spatial dimensions: 2 for conv2d, 1 for conv1d."""
        return len(self.kernel)

    def x_shape(self, batch: int) -> tuple:
        return (batch,) + tuple(self.in_shape)

    @property
    def w_shape(self) -> tuple:
        return (self.out, self.in_shape[0] // self.groups) + tuple(self.kernel)

    def conv_kwargs(self) -> dict:
        """stride, padding, dilation, groups as convbp.conv2d / conv1d take them."""
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    def params(self, batch: int):
        """The ``_core.ConvParams`` of this layer at ``batch``: the one place output sizes
        and padding are computed (convbp._args, the same call the public API makes)."""
        make = _args.params2d if self.dims == 2 else _args.params1d
        return make(self.x_shape(batch), self.w_shape, self.stride, self.padding, self.dilation, self.groups)

    def describe(self) -> str:
        k = "x".join(map(str, self.kernel))
        extra = "".join(f" {n}={v}" for n, v, d in (("s", self.stride, 1), ("d", self.dilation, 1),
                                                     ("g", self.groups, 1)) if v != d)
        return f"{self.in_shape[0]}->{self.out} {k} @{'x'.join(map(str, self.in_shape[1:]))}{extra}"


@dataclass(frozen=True)
class Suite:
    name: str
    batch: int
    layers: Tuple[Layer, ...]
    about: str = ""


def data_path(path: Optional[Union[str, Path]] = None) -> Path:
    """The suites file to read: ``path`` if given, else the first of SEARCH_PATH that exists."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"suite file {str(p)!r} does not exist")
        return p
    for p in SEARCH_PATH:
        if p.is_file():
            return p
    raise FileNotFoundError("convbp's benchmark suites were not found; looked in "
                            + ", ".join(str(p) for p in SEARCH_PATH))


def _tuple(v):
    return tuple(v) if isinstance(v, list) else v


def _layer(d: dict, where: str) -> Layer:
    if not isinstance(d, dict):
        raise ValueError(f"{where}: a layer must be an object, got {d!r}")
    unknown = set(d) - _LAYER_KEYS
    missing = {"name", "in", "out", "kernel"} - set(d)
    if unknown or missing:
        raise ValueError(f"{where} ({d.get('name', '?')}): unknown keys {sorted(unknown)}, "
                         f"missing keys {sorted(missing)}")
    layer = Layer(name=d["name"], family=d.get("family", d["name"]), in_shape=tuple(d["in"]), out=d["out"],
                  kernel=tuple(d["kernel"]), stride=_tuple(d.get("stride", 1)),
                  padding=_tuple(d.get("padding", 0)), dilation=_tuple(d.get("dilation", 1)),
                  groups=d.get("groups", 1), count=dict(d.get("count", {})))
    if layer.dims not in (1, 2) or len(layer.in_shape) != layer.dims + 1:
        raise ValueError(f"{where} ({layer.name}): in={list(layer.in_shape)} and kernel={list(layer.kernel)} "
                         "must be [C, H, W] with [R, S] or [C, L] with [S]")
    try:
        layer.params(1)  # the library's own validation: groups, output size >= 1, ...
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where} ({layer.name}): {e}") from None
    return layer


def load(path: Optional[Union[str, Path]] = None) -> Dict[str, Suite]:
    """All suites of the suites file (see ``data_path``), by name."""
    p = data_path(path)
    with open(p, encoding="utf-8") as f:
        data = json.load(f)
    layers = {}
    for i, d in enumerate(data.get("layers", [])):
        layer = _layer(d, f"{p}: layers[{i}]")
        if layer.name in layers:
            raise ValueError(f"{p}: layer name {layer.name!r} appears twice")
        layers[layer.name] = layer
    out = {}
    for name, s in data.get("suites", {}).items():
        unknown = set(s) - _SUITE_KEYS
        if unknown or "batch" not in s or "layers" not in s:
            raise ValueError(f"{p}: suite {name!r} needs 'batch' and 'layers' (unknown keys {sorted(unknown)})")
        names = list(layers) if s["layers"] == "*" else s["layers"]
        bad = [n for n in names if n not in layers]
        if bad:
            raise ValueError(f"{p}: suite {name!r} names unknown layers {bad}")
        out[name] = Suite(name, int(s["batch"]), tuple(layers[n] for n in names), s.get("about", ""))
    return out


def names(path=None) -> list:
    return list(load(path))


def get(name: str, path=None) -> Suite:
    """The suite called ``name``; ValueError listing the known names otherwise."""
    suites = load(path)
    if name not in suites:
        raise ValueError(f"unknown suite {name!r}; known suites: {', '.join(suites)}")
    return suites[name]
