"""Hypothesis properties over random valid geometries (small sizes, so each example
takes milliseconds): conv1d and conv2d with any batch (0 included), groups, kernel,
stride, dilation and padding in every public form.

- every pass matches the reference within its bound (convbp._check);
- the output shape follows from the padding's definition (computed here, not by convbp);
- adjointness: <conv(x, w), dy> = <x, grad_input(dy, w)> = <w, grad_weight(x, dy)>
  (the backward passes are the transposes of the forward map, Ji & Xie 000 sec. 3.3);
- swapping the H and W axes of every argument swaps the result's axes.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import convbp
from convbp import _check
from convbp._args import PADDING_STRINGS
from convbp._check import Case

from conftest import record_error

FAST = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _axis(draw, mode, pads):
    """(size, kernel, stride, dilation) of one spatial axis, the size large enough for
    an output >= 1 under explicit ``pads`` (before, after) or the padding string ``mode``."""
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 4))
    d = draw(st.integers(1, 3))
    ext = d * (k - 1) + 1
    if mode is None:
        n = max(1, ext - sum(pads)) + draw(st.integers(0, 7))
    else:
        n = (ext if mode == "valid" else 1) + draw(st.integers(0, 9))
    return n, k, s, d


@st.composite
def cases(draw, dims=None):
    dims = draw(st.sampled_from([1, 2])) if dims is None else dims
    g, cg, kg = (draw(st.integers(1, 3)) for _ in range(3))
    N = draw(st.integers(0, 3))
    form = draw(st.sampled_from(["int", "tuple", "string"]))
    pad = st.integers(0, 4)
    if form == "string":
        padding = draw(st.sampled_from(PADDING_STRINGS))
        pads = [None] * dims
    elif form == "int":
        padding = draw(pad)
        pads = [(padding, padding)] * dims
    else:
        flat = tuple(draw(pad) for _ in range(2 * dims))
        pads = [flat[2 * i:2 * i + 2] for i in range(dims)]
        padding = flat
        if dims == 2 and flat[0] == flat[1] and flat[2] == flat[3] and draw(st.booleans()):
            padding = (flat[0], flat[2])  # the (ph, pw) pair form
    mode = padding if form == "string" else None
    axes = [_axis(draw, mode, p) for p in pads]
    tup = lambda i: tuple(a[i] for a in axes)
    one = lambda v: v[0] if dims == 1 and draw(st.booleans()) else v  # conv1d: an int or a 1-tuple
    return Case("hyp", (N, g * cg) + tup(0), (g * kg, cg) + tup(1), stride=one(tup(2)), padding=padding,
                dilation=one(tup(3)), groups=g)


def _expected_out(n, k, s, d, padding, axis_pads):
    if padding == "same" or padding == "same_lower":
        return math.ceil(n / s)
    if padding == "full":
        return (n + d * (k - 1) - 1) // s + 1
    if padding == "valid":
        return (n - d * (k - 1) - 1) // s + 1
    return (n + sum(axis_pads) - d * (k - 1) - 1) // s + 1


@settings(max_examples=60, **FAST)
@given(case=cases(), dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_every_pass_matches_reference(case, dtype, seed):
    d = _check.make_inputs(case, dtype, seed)
    for p in _check.PASSES:
        r = _check.check_pass(case, p, dtype, data=d)
        record_error(dtype, p, r.err, f"hypothesis {case.describe()}")
        assert r.ok, (p, r.err, r.tol, r.note, case.describe())


def _pads_of(case):
    """Per axis (before, after) from an int / tuple padding (None for strings)."""
    nd, pad = case.dims, case.padding
    if isinstance(pad, str):
        return [None] * nd
    if isinstance(pad, int):
        return [(pad, pad)] * nd
    if nd == 2 and len(pad) == 2:
        return [(pad[0], pad[0]), (pad[1], pad[1])]
    return [tuple(pad[2 * i:2 * i + 2]) for i in range(nd)]


@settings(max_examples=60, **FAST)
@given(case=cases())
def test_output_shape_follows_the_padding_definition(case):
    nd = case.dims
    tup = lambda v: (v,) * nd if isinstance(v, int) else tuple(v)
    want = tuple(_expected_out(n, k, s, d, case.padding, pads) for n, k, s, d, pads in
                 zip(case.x_shape[2:], case.w_shape[2:], tup(case.stride), tup(case.dilation), _pads_of(case)))
    y = (convbp.conv2d if nd == 2 else convbp.conv1d)(np.zeros(case.x_shape), np.zeros(case.w_shape), **case.conv)
    assert y.shape == case.x_shape[:1] + case.w_shape[:1] + want


@settings(max_examples=40, **FAST)
@given(case=cases(), seed=st.integers(0, 2**16))
def test_backward_passes_are_adjoints_of_forward(case, seed):
    d = _check.make_inputs(case, "float64", seed)
    a = {k: np.abs(v) for k, v in d.items()}
    run = lambda p, dd: _check.run_api(case, p, dd)
    y = _check.run_api(case, "fwd", dict(d, b=np.zeros_like(d["b"])))
    lhs = float(np.sum(y * d["dy"]))
    mid = float(np.sum(d["x"] * run("bwd_data", d)))
    rhs = float(np.sum(d["w"] * run("bwd_weight", d)))
    # sum of |terms| of the triple sum, the scale of all three inner products
    mag = float(np.sum(_check.run_api(case, "fwd", dict(a, b=np.zeros_like(a["b"]))) * a["dy"]))
    tol = 4 * _check.gamma(_check.n_terms(case, "fwd") + y.size + 2, 2**-53) * mag + 1e-300
    assert abs(lhs - mid) <= tol and abs(lhs - rhs) <= tol, (lhs, mid, rhs, tol)


def _swap_case(case):
    """The same convolution with the H and W axes exchanged."""
    sw = lambda v: v if isinstance(v, (int, str)) else tuple(reversed(v)) if len(v) == 2 else (v[2], v[3], v[0], v[1])
    n, c, h, w = case.x_shape
    k, cg, r, s = case.w_shape
    return Case("swapped", (n, c, w, h), (k, cg, s, r), stride=sw(case.stride), padding=sw(case.padding),
                dilation=sw(case.dilation), groups=case.groups)


@settings(max_examples=30, **FAST)
@given(case=cases(dims=2), seed=st.integers(0, 2**16))
def test_swapping_h_and_w_commutes(case, seed):
    d = _check.make_inputs(case, "float64", seed)
    t = lambda a: np.ascontiguousarray(np.swapaxes(a, -1, -2)) if a.ndim == 4 else a
    sw_case = _swap_case(case)
    dt = {k: t(v) for k, v in d.items()}
    for p in _check.PASSES:
        want, mag = _check.run_reference(case, p, d)
        got = t(_check.run_api(sw_case, p, dt))
        assert _check.rel_error(got, want, mag) <= _check.tolerance("float64", _check.n_terms(case, p)), p
