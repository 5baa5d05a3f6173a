"""Argument checks shared by the layers."""

from __future__ import annotations

import numpy as np

from .. import _args

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """``dtype`` as a NumPy dtype if it is float32 or float64, else TypeError."""
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def float_array(x, name: str) -> np.ndarray:
    """``x`` as an ndarray (no copy when it is one) of float32 or float64, else TypeError.
    Byte-swapped float32/64 is converted to native order, as the conv functions do."""
    x = np.asarray(x)
    if not x.dtype.isnative and x.dtype.newbyteorder("=") in FLOAT_DTYPES:
        x = x.astype(x.dtype.newbyteorder("="))
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} expects a float32 or float64 array, got dtype {x.dtype}")
    return x


def ntuple(v, n: int, name: str) -> tuple:
    """An int repeated ``n`` times, or a tuple/list of ``n`` ints, as a tuple of ints."""
    is_int = lambda e: isinstance(e, (int, np.integer)) and not isinstance(e, bool)  # noqa: E731
    if is_int(v):
        return (int(v),) * n
    if isinstance(v, (tuple, list)) and len(v) == n and all(is_int(e) for e in v):
        return tuple(int(e) for e in v)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {v!r}")


def check_grad_output(grad_output, shape, dtype, layer: str) -> np.ndarray:
    """``grad_output`` as an ndarray if it has exactly the ``shape`` and ``dtype`` of the
    output ``layer``'s forward returned: ValueError naming both shapes, TypeError naming
    both dtypes otherwise (a gradient is never broadcast, reshaped or cast)."""
    g = _args.as_float_array(grad_output, "grad_output")
    shape = tuple(shape)
    if g.shape != shape:
        raise ValueError(f"grad_output has shape {g.shape} but {layer}'s forward output has shape {shape}")
    if g.dtype != dtype:
        raise TypeError(f"grad_output has dtype {g.dtype} but {layer}'s forward output has dtype "
                        f"{np.dtype(dtype)}: convbp never casts; convert one of them explicitly")
    return g
