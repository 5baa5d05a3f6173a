"""Seeded weight initialization (PyTorch's names, formulas and defaults).

Every function fills a Parameter (or a float ndarray) in place and returns it. The
random numbers come from ``generator`` (a ``numpy.random.Generator`` or an int
seed) or, when it is None, from this module's default generator, which
``manual_seed(seed)`` resets: ``manual_seed(0)`` then building a model gives the
same weights every time. Samples are drawn in float64 and stored in the
parameter's dtype.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .module import Parameter

_default = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reset the default generator used when no ``generator`` is passed."""
    global _default
    _default = np.random.default_rng(seed)


def default_generator() -> np.random.Generator:
    return _default


def _rng(generator) -> np.random.Generator:
    if generator is None:
        return _default
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy.random.Generator, got {generator!r}")


def _array(p) -> np.ndarray:
    a = p.data if isinstance(p, Parameter) else p
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"expected a Parameter or a float32/float64 ndarray, got {type(p).__name__}")
    return a


def _fill(p, values):
    _array(p)[...] = values
    return p


def calculate_fan_in_and_fan_out(p) -> tuple:
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field, for a
    weight of shape (out, in, *kernel) (Linear: (out, in))."""
    shape = _array(p).shape
    if len(shape) < 2:
        raise ValueError(f"fan in/out need a weight of at least 2 dims, got shape {shape}")
    field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * field, shape[0] * field


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def uniform_(p, a: float = 0.0, b: float = 1.0, generator=None):
    return _fill(p, _rng(generator).uniform(a, b, size=_array(p).shape))


def normal_(p, mean: float = 0.0, std: float = 1.0, generator=None):
    return _fill(p, _rng(generator).normal(mean, std, size=_array(p).shape))


def constant_(p, value: float):
    return _fill(p, value)


def zeros_(p):
    return _fill(p, 0)


def ones_(p):
    return _fill(p, 1)


def _fan(p, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(p)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(p, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al. 2015)."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(p, mode))
    return uniform_(p, -bound, bound, generator)


def kaiming_normal_(p, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """N(0, std^2), std = gain / sqrt(fan) (He et al. 2015)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(p, mode))
    return normal_(p, 0.0, std, generator)


def xavier_uniform_(p, gain: float = 1.0, generator=None):
    """U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(p)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(p, -bound, bound, generator)


def xavier_normal_(p, gain: float = 1.0, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(p)
    return normal_(p, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def default_layer_init_(weight, bias, generator=None) -> None:
    """PyTorch's default for Linear and Conv layers: weight kaiming_uniform_(a=sqrt(5)),
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = _rng(generator)
    kaiming_uniform_(weight, a=math.sqrt(5), generator=rng)
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng)
