"""What the public functions do with their array arguments: any memory layout or byte
order gives the same result as the C-contiguous native array (bit for bit, as the
documented behaviour is a contiguous copy first); inputs are never modified; outputs
are new, writeable, C-contiguous arrays of the input dtype; batch 0 gives empty
outputs of the right shape and zero grad_weight / grad_bias."""

from __future__ import annotations

import numpy as np
import pytest

import convbp
from convbp import _check
from convbp._check import Case

CASE_2D = Case("layout-2d", (2, 4, 7, 6), (6, 2, 3, 2), stride=(2, 1), padding=(1, 0, 2, 1), groups=2)
CASE_1D = Case("layout-1d", (2, 4, 11), (6, 2, 3), stride=2, padding="same", groups=2)


def _transposed(a):
    """Same values, last two axes stored transposed (not C-contiguous); a 1-D array
    (the bias) is stored backwards instead."""
    if a.ndim < 2:
        return _negative_strides(a)
    return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)


def _negative_strides(a):
    """Same values, every axis stored backwards (negative strides)."""
    rev = (slice(None, None, -1),) * a.ndim
    return np.ascontiguousarray(a[rev])[rev]


def _strided_slice(a):
    """Same values, a view taking every other element of a bigger array."""
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    view = big[(slice(None, None, 2),) * a.ndim]
    view[...] = a
    return view


def _readonly(a):
    """A C-contiguous copy flagged read-only (the kernels must only read it)."""
    c = a.copy()
    c.setflags(write=False)
    return c


LAYOUTS = {
    "transposed": _transposed,
    "negative-strides": _negative_strides,
    "fortran": np.asfortranarray,
    "big-endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
    "strided-slice": _strided_slice,
    "readonly": _readonly,
}


def _all_calls(case, d):
    """Every public function of ``case``'s dimensionality on the inputs ``d``: name -> result."""
    pre = "conv2d" if case.dims == 2 else "conv1d"
    f = lambda s: getattr(convbp, pre + s)
    out = {
        "fwd": f("")(d["x"], d["w"], d["b"], **case.conv),
        "bwd_data": f("_backward_input")(d["dy"], d["w"], case.x_shape, **case.conv),
        "bwd_weight": f("_backward_weight")(d["x"], d["dy"], case.w_shape, **case.conv),
        "bias": f("_backward_bias")(d["dy"]),
    }
    gi, gw, gb = f("_backward")(d["x"], d["w"], d["dy"], **case.conv)
    out.update(combined_input=gi, combined_weight=gw, combined_bias=gb)
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [CASE_2D, CASE_1D], ids=lambda c: c.name)
def test_any_layout_gives_the_contiguous_result(case, dtype, layout):
    d = _check.make_inputs(case, dtype)
    want = _all_calls(case, d)
    odd = {k: LAYOUTS[layout](v) for k, v in d.items()}
    assert all(np.array_equal(odd[k], d[k]) for k in d)
    if layout != "readonly":
        assert not odd["x"].flags.c_contiguous or not odd["x"].dtype.isnative
    originals = {k: v.copy() for k, v in odd.items()}
    got = _all_calls(case, odd)
    for name in want:
        assert got[name].dtype == np.dtype(dtype), (name, got[name].dtype)
        assert got[name].flags.c_contiguous and got[name].flags.writeable, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    for k, v in odd.items():
        np.testing.assert_array_equal(v, originals[k], err_msg=f"{k} was modified")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [CASE_2D, CASE_1D] + list(_check.CASES), ids=lambda c: c.name)
def test_inputs_never_modified_and_outputs_fresh(case, dtype):
    d = _check.make_inputs(case, dtype)
    before = {k: v.copy() for k, v in d.items()}
    got = _all_calls(case, d)
    for k in d:
        np.testing.assert_array_equal(d[k], before[k], err_msg=f"{k} was modified")
    for name, a in got.items():
        assert isinstance(a, np.ndarray) and a.dtype == np.dtype(dtype) and a.flags.c_contiguous, name
        assert not any(np.shares_memory(a, v) for v in d.values()), f"{name} aliases an input"


def test_array_likes_are_accepted():
    """Nested lists convert (as float64) and give the ndarray result."""
    case = CASE_1D
    d = _check.make_inputs(case, "float64")
    got = convbp.conv1d(d["x"].tolist(), d["w"].tolist(), d["b"].tolist(), **case.conv)
    np.testing.assert_array_equal(got, convbp.conv1d(d["x"], d["w"], d["b"], **case.conv))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [
    Case("b0-2d", (0, 4, 8, 8), (6, 2, 3, 3), stride=2, padding=1, groups=2),
    Case("b0-2d-same", (0, 3, 5, 7), (2, 3, 2, 2), stride=3, padding="same"),
    Case("b0-1d", (0, 2, 9), (4, 1, 3), stride=2, padding="full", groups=2),
], ids=lambda c: c.name)
def test_batch_zero(case, dtype):
    d = _check.make_inputs(case, dtype)
    y_shape = case.y_shape()
    assert y_shape[0] == 0 and all(n >= 1 for n in y_shape[1:])
    got = _all_calls(case, d)
    assert got["fwd"].shape == y_shape
    assert got["bwd_data"].shape == got["combined_input"].shape == case.x_shape
    for k in ("bwd_weight", "combined_weight"):
        assert got[k].shape == case.w_shape and not np.any(got[k]), k
    for k in ("bias", "combined_bias"):
        assert got[k].shape == (case.w_shape[0],) and not np.any(got[k]), k
    for a in got.values():
        assert a.dtype == np.dtype(dtype)


def test_mixed_byte_orders_are_one_dtype():
    """A big-endian x with a native weight is float64 and float64: accepted, same result."""
    case = CASE_2D
    d = _check.make_inputs(case, "float64")
    got = convbp.conv2d(d["x"].astype(">f8"), d["w"], d["b"].astype(">f8"), **case.conv)
    np.testing.assert_array_equal(got, convbp.conv2d(d["x"], d["w"], d["b"], **case.conv))
    assert got.dtype == np.dtype("=f8")


def test_equivalent_argument_forms_give_one_result():
    """int / pair / 4-tuple / list / NumPy-integer spellings of the same geometry."""
    d = _check.make_inputs(Case("forms", (2, 4, 9, 8), (6, 2, 3, 2), groups=2), "float64")
    base = convbp.conv2d(d["x"], d["w"], None, stride=(2, 2), padding=(1, 1, 1, 1), dilation=(1, 1), groups=2)
    for kw in (dict(stride=2, padding=1, dilation=1, groups=2),
               dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=2),
               dict(stride=np.int64(2), padding=(np.int32(1), np.int64(1)), dilation=np.uint8(1), groups=np.int16(2))):
        np.testing.assert_array_equal(convbp.conv2d(d["x"], d["w"], None, **kw), base, err_msg=str(kw))
    x1, w1 = d["x"][:, :, 0], d["w"][:, :, 0]
    base1 = convbp.conv1d(x1, w1, stride=2, padding=(1, 1), dilation=2, groups=2)
    for kw in (dict(stride=(2,), padding=1, dilation=(2,), groups=2), dict(stride=[2], padding=[1, 1], dilation=[2], groups=2)):
        np.testing.assert_array_equal(convbp.conv1d(x1, w1, **kw), base1, err_msg=str(kw))
