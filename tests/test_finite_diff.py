"""Finite differences through the compiled kernels (float64): the gradients that
conv*_backward return are the derivatives of a scalar loss computed with conv*.

L(x, w, b) = sum(g * tanh(conv(x, w, b))) for a fixed random g, so
dL/dy = g * (1 - tanh(y)^2) is what the backward passes receive (Diba 001 eq. 11's
activation derivative). Small shapes are checked element by element (every entry of
every gradient); larger ones along random directions.
"""

from __future__ import annotations

import numpy as np
import pytest

import convbp
from convbp._check import Case

SMALL = [
    Case("fd-basic", (1, 2, 5, 4), (3, 2, 2, 3), padding=1),
    Case("fd-stride-dil-asym", (2, 2, 7, 6), (2, 2, 2, 2), stride=(2, 3), padding=(1, 0, 2, 1), dilation=(2, 1)),
    Case("fd-groups", (1, 4, 4, 5), (4, 2, 3, 2), padding="same", groups=2),
    Case("fd-1d", (2, 3, 9), (2, 3, 3), stride=2, padding="same_lower", dilation=2),
]
LARGER = [
    Case("fd-depthwise", (2, 6, 12, 11), (12, 1, 3, 3), stride=2, padding="same", groups=6),
    Case("fd-full", (2, 3, 8, 9), (4, 3, 3, 4), padding="full", dilation=(1, 2)),
    Case("fd-1d-long", (3, 4, 40), (5, 4, 5), stride=3, padding=(4, 1)),
]
H = 1e-5


def _fns(case):
    if case.dims == 2:
        return convbp.conv2d, convbp.conv2d_backward
    return convbp.conv1d, convbp.conv1d_backward


def _setup(case, seed=0):
    rng = np.random.default_rng(seed)
    fwd, bwd = _fns(case)
    x = rng.standard_normal(case.x_shape)
    w = rng.standard_normal(case.w_shape) * 0.5
    b = rng.standard_normal(case.w_shape[0])
    g = rng.standard_normal(fwd(x, w, b, **case.conv).shape)
    loss = lambda x_, w_, b_: float(np.sum(g * np.tanh(fwd(x_, w_, b_, **case.conv))))
    dy = g * (1 - np.tanh(fwd(x, w, b, **case.conv)) ** 2)
    grads = bwd(x, w, dy, **case.conv)
    return (x, w, b), grads, loss


def _with(args, i, value):
    out = list(args)
    out[i] = value
    return out


@pytest.mark.parametrize("case", SMALL, ids=lambda c: c.name)
def test_every_gradient_entry(case):
    args, grads, loss = _setup(case)
    for i, (a, grad) in enumerate(zip(args, grads)):
        assert grad.shape == a.shape
        fd = np.empty_like(a)
        for idx in np.ndindex(a.shape):
            e = np.zeros_like(a)
            e[idx] = H
            fd[idx] = (loss(*_with(args, i, a + e)) - loss(*_with(args, i, a - e))) / (2 * H)
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8, err_msg=f"gradient {i} ({'xwb'[i]})")


@pytest.mark.parametrize("case", LARGER, ids=lambda c: c.name)
def test_directional_derivatives(case):
    args, grads, loss = _setup(case, seed=1)
    rng = np.random.default_rng(2)
    for i, (a, grad) in enumerate(zip(args, grads)):
        v = rng.standard_normal(a.shape)
        fd = (loss(*_with(args, i, a + H * v)) - loss(*_with(args, i, a - H * v))) / (2 * H)
        exact = float(np.sum(grad * v))
        assert abs(fd - exact) <= 1e-6 * (np.sum(np.abs(grad * v)) + 1e-3), (i, fd, exact)
