"""Argument normalization: the user's ints, tuples and padding strings become one
``_core.ConvParams``. Only forms and types are checked here; the values (stride >= 1,
groups dividing C and K, output size >= 1, overflow, ...) are checked by
``ConvParams.validate()`` in C++, the one place that owns that arithmetic.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from . import _core

PADDING_STRINGS = ("valid", "same", "same_lower", "full")
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INT64_MAX = 2**63 - 1


def _is_int(v) -> bool:
    if type(v) is int:  # the common case, without the ABC checks below (~1 us per call)
        return True
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def as_int(v, name: str) -> int:
    """``v`` as a Python int, or TypeError naming ``name``."""
    if type(v) is int and -_INT64_MAX <= v <= _INT64_MAX:
        return v
    if not _is_int(v):
        raise TypeError(f"{name} must be an int, got {v!r} of type {type(v).__name__}")
    v = operator.index(v)
    if abs(v) > _INT64_MAX:
        raise ValueError(f"{name}={v} does not fit in 64 bits")
    return v


def as_tuple(v, n: int, name: str) -> tuple:
    """An int (repeated ``n`` times) or a sequence of ``n`` ints, as a tuple."""
    if _is_int(v):
        return (as_int(v, name),) * n
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{name} must be an int or a sequence of {n} ints, got {v!r} of length {len(v)}")
        return tuple(as_int(e, name) for e in v)
    raise TypeError(f"{name} must be an int or a sequence of {n} ints, got {v!r} of type {type(v).__name__}")


def as_float_array(a, name: str) -> np.ndarray:
    """``a`` as a float32/float64 ndarray (no copy when it already is one).

    Array-likes (lists, CPU torch tensors) are converted with ``np.asarray``;
    integer, bool, complex, object and float16 data are refused rather than cast.
    """
    if not isinstance(a, np.ndarray):
        try:
            a = np.asarray(a)
        except Exception as e:  # ragged lists and the like
            raise TypeError(f"{name} must be a float32 or float64 array, got {type(a).__name__}: {e}") from None
    if not a.dtype.isnative and a.dtype.newbyteorder("=") in _FLOAT_DTYPES:
        a = a.astype(a.dtype.newbyteorder("="))  # byte-swapped float32/64: the copy contiguous() would make
    if a.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {a.dtype}")
    return a


def contiguous(a: np.ndarray) -> np.ndarray:
    """C-contiguous, native-endian version of ``a`` (a copy only when needed)."""
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return np.ascontiguousarray(a)


def check_ndim(a: np.ndarray, ndim: int, name: str, layout: str) -> None:
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {tuple(a.shape)}")


def check_same_dtype(ref: np.ndarray, ref_name: str, other: np.ndarray, name: str) -> None:
    if other.dtype != ref.dtype:
        raise TypeError(f"{name} has dtype {other.dtype} but {ref_name} has dtype {ref.dtype}: "
                        "convbp never casts; convert one of them explicitly")


def as_shape(shape, ndim: int, name: str, layout: str) -> tuple:
    if not isinstance(shape, (tuple, list)) and not (isinstance(shape, np.ndarray) and shape.ndim == 1):
        raise TypeError(f"{name} must be a sequence of {ndim} ints {layout}, got {shape!r}")
    if len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} entries {layout}, got {tuple(shape)!r}")
    out = tuple(as_int(v, name) for v in shape)
    if any(v < 0 for v in out):
        raise ValueError(f"{name}={out} must not contain negative sizes")
    return out


def check_algo(algo) -> str:
    names = ("auto",) + tuple(_core.route_names())
    if not isinstance(algo, str) or algo not in names:
        raise ValueError(f"algo={algo!r} is not one of {', '.join(repr(n) for n in names)}")
    return algo


def _same_pads(size: int, kernel: int, stride: int, dilation: int, lower: bool) -> tuple:
    """TensorFlow-style 'same': output ceil(size / stride); odd totals put the extra
    row at the end ('same') or the start ('same_lower', Diba eq. 8)."""
    if stride < 1 or dilation < 1 or kernel < 1:
        return (0, 0)  # invalid; ConvParams.validate() reports it
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, big = total // 2, total - total // 2
    return (big, small) if lower else (small, big)


def _padding_1d(padding, size, kernel, stride, dilation, name="padding") -> tuple:
    """(before, after) for one spatial axis from a padding string."""
    if padding == "valid":
        return (0, 0)
    if padding == "full":
        d = dilation * (kernel - 1)
        return (d, d)
    return _same_pads(size, kernel, stride, dilation, lower=(padding == "same_lower"))


def _check_padding_string(padding: str, name: str = "padding") -> None:
    if padding not in PADDING_STRINGS:
        raise ValueError(f"{name}={padding!r} is not one of {', '.join(repr(s) for s in PADDING_STRINGS)}")


# ConvParams of recent argument sets, keyed by the exact arguments. A training loop
# calls the same few shapes again and again, and building a ConvParams (the checks
# below and pybind11's keyword constructor) was 2.4 us of conv2d's 5.6 us per-call
# overhead (2-core Zen 5 host). Only plain ints, strs and tuples of plain ints make a
# key, so 1.0, True or np.int64(1) never share an entry with 1: they take the checked
# path every time, as do lists. A ConvParams is read-only from Python, so sharing one
# between calls is safe. At most _PARAMS_MEMO_SIZE entries: a full memo is emptied.
_PARAMS_MEMO: dict = {}
_PARAMS_MEMO_SIZE = 512


def _memo_key(*args):
    """``args`` when each is an int, a str or a tuple of ints (exact types), else None."""
    for a in args:
        t = type(a)
        if t is int or t is str:
            continue
        if t is not tuple:
            return None
        for e in a:  # (a loop: all() over a generator cost 3x as much here)
            if type(e) is not int:
                return None
    return args


def _memoized(make):
    """``make`` (params2d / params1d) with _PARAMS_MEMO in front of it."""
    def wrapper(input_shape, weight_shape, stride, padding, dilation, groups):
        key = _memo_key(make.__name__, input_shape, weight_shape, stride, padding, dilation, groups)
        if key is not None:
            p = _PARAMS_MEMO.get(key)
            if p is not None:
                return p
        p = make(input_shape, weight_shape, stride, padding, dilation, groups)
        if key is not None:
            if len(_PARAMS_MEMO) >= _PARAMS_MEMO_SIZE:
                _PARAMS_MEMO.clear()  # one call, safe beside other Python threads (iterating is not)
            _PARAMS_MEMO[key] = p
        return p
    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = make.__name__, make.__qualname__, make.__doc__
    wrapper.__wrapped__ = make
    return wrapper


@_memoized
def params2d(input_shape, weight_shape, stride, padding, dilation, groups) -> "_core.ConvParams":
    """ConvParams for conv2d with x of ``input_shape`` (N, C, H, W) and weight of
    ``weight_shape`` (K, C/groups, R, S). Raises TypeError/ValueError naming the argument."""
    N, C, H, W = input_shape
    K, Cw, R, S = weight_shape
    groups = as_int(groups, "groups")
    sh, sw = as_tuple(stride, 2, "stride")
    dh, dw = as_tuple(dilation, 2, "dilation")
    if isinstance(padding, str):
        _check_padding_string(padding)
        top, bottom = _padding_1d(padding, H, R, sh, dh)
        left, right = _padding_1d(padding, W, S, sw, dw)
    elif _is_int(padding):
        top = bottom = left = right = as_int(padding, "padding")
    elif isinstance(padding, (tuple, list)) and len(padding) in (2, 4):
        pads = tuple(as_int(v, "padding") for v in padding)
        top, bottom, left, right = (pads[0], pads[0], pads[1], pads[1]) if len(pads) == 2 else pads
    else:
        raise (ValueError if isinstance(padding, (tuple, list)) else TypeError)(
            f"padding must be an int, a pair (ph, pw), a 4-tuple (top, bottom, left, right) or one of "
            f"{', '.join(repr(s) for s in PADDING_STRINGS)}; got {padding!r}")
    _check_groups_and_channels(groups, C, Cw, K)
    p = _core.ConvParams(N=N, C=C, H=H, W=W, K=K, R=R, S=S, groups=groups, stride_h=sh, stride_w=sw,
                         dil_h=dh, dil_w=dw, pad_top=top, pad_bottom=bottom, pad_left=left,
                         pad_right=right, spatial_dims=2)
    p.validate()
    return p


@_memoized
def params1d(input_shape, weight_shape, stride, padding, dilation, groups) -> "_core.ConvParams":
    """ConvParams for conv1d (x (N, C, L), weight (K, C/groups, S)) as the H = R = 1 conv2d."""
    N, C, L = input_shape
    K, Cw, S = weight_shape
    groups = as_int(groups, "groups")
    (sw,) = as_tuple(stride, 1, "stride")
    (dw,) = as_tuple(dilation, 1, "dilation")
    if isinstance(padding, str):
        _check_padding_string(padding)
        left, right = _padding_1d(padding, L, S, sw, dw)
    elif _is_int(padding):
        left = right = as_int(padding, "padding")
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        left, right = (as_int(v, "padding") for v in padding)
    else:
        raise (ValueError if isinstance(padding, (tuple, list)) else TypeError)(
            f"padding must be an int, a pair (left, right) or one of "
            f"{', '.join(repr(s) for s in PADDING_STRINGS)}; got {padding!r}")
    _check_groups_and_channels(groups, C, Cw, K)
    p = _core.ConvParams(N=N, C=C, H=1, W=L, K=K, R=1, S=S, groups=groups, stride_h=1, stride_w=sw,
                         dil_h=1, dil_w=dw, pad_top=0, pad_bottom=0, pad_left=left, pad_right=right,
                         spatial_dims=1)
    p.validate()
    return p


def _check_groups_and_channels(groups: int, C: int, Cw: int, K: int) -> None:
    """The channel relation between x and weight: C == weight.shape[1] * groups.
    (groups >= 1 and dividing C and K is ConvParams.validate()'s job.)"""
    if groups >= 1 and C % groups == 0 and K % groups == 0 and Cw * groups != C:
        raise ValueError(f"channel mismatch: x has C={C} channels but weight.shape[1]={Cw} "
                         f"with groups={groups} expects C = weight.shape[1] * groups = {Cw * groups}")
