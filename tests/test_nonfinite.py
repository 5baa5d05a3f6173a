"""NaN and Inf propagate as IEEE arithmetic on DESIGN.md's sums says.

Each pass is bilinear, B(a, c). We put NaN, +Inf and -Inf into a (x for fwd and
bwd_weight, grad_output for bwd_data and bias), keep c finite with one exact zero,
and predict every output element from which terms it sums (the reference applied to
0/1 indicator arrays, exact integer arithmetic):

    NaN   where a NaN term is summed, or Inf * 0, or both +Inf and -Inf terms;
    +Inf  where only +Inf terms (no NaN) are summed;  -Inf likewise;
    finite elsewhere, and then equal to the pass on a with its non-finite entries set
    to zero (those elements never read them).

The zero padding is never a term with a non-finite factor here (the padded operand
is x or dy, the other factor finite), so the prediction does not depend on whether a
route skips the padding or multiplies by it.
"""

from __future__ import annotations

import numpy as np
import pytest

from convbp import _check
from convbp._check import Case

from conftest import ALGOS

CASES = [
    Case("nonfinite-2d", (2, 4, 9, 8), (6, 2, 3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
    Case("nonfinite-1d", (2, 3, 15), (4, 3, 3), stride=2, padding="same"),
]
# which argument carries the non-finite values, which is the finite factor
_ROLES = {"fwd": ("x", "w"), "bwd_weight": ("x", "dy"), "bwd_data": ("dy", "w"), "bias": ("dy", None)}


def _poison(a: np.ndarray, rng) -> np.ndarray:
    """A copy of ``a`` with NaN, +Inf and -Inf at a few scattered places."""
    a = a.copy()
    flat = a.reshape(-1)
    idx = rng.choice(flat.size, size=6, replace=False)
    flat[idx[:1]] = np.nan
    flat[idx[1:4]] = np.inf
    flat[idx[4:]] = -np.inf
    return a


def poisoned_inputs(case, pass_, dtype) -> dict:
    """make_inputs with NaN/Inf in the pass's first operand and one exact zero in the
    finite one (so Inf * 0 = NaN happens where that tap meets an Inf)."""
    d = _check.make_inputs(case, dtype)
    bad, good = _ROLES[pass_]
    if good is not None:
        d[good].reshape(-1)[0] = 0
    d[bad] = _poison(d[bad], np.random.default_rng(5))
    return d


def _pass_on(case, pass_, data, **override):
    """The reference pass on ``data`` with some arguments replaced, without the bias."""
    d = dict(data, b=np.zeros_like(data["b"]), **override)
    return np.asarray(_check.run_reference(case, pass_, {k: np.asarray(v, np.float64) for k, v in d.items()})[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pass_,algo", [(p, a) for p in _check.PASSES for a in (ALGOS if p != "bias" else ("auto",))])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_nan_and_inf_propagate(case, pass_, algo, dtype):
    d = poisoned_inputs(case, pass_, dtype)
    bad, good = _ROLES[pass_]
    a = d[bad]
    c = d[good] if good else None
    ind = lambda m_a, m_c: _pass_on(case, pass_, d, **{bad: m_a, **({good: m_c} if good else {})}) > 0
    ones = np.ones_like(c) if good else None
    nan_hit = ind(np.isnan(a), ones)
    pos = ind(np.isposinf(a), c > 0 if good else None) | (good is not None and ind(np.isneginf(a), c < 0))
    neg = ind(np.isneginf(a), c > 0 if good else None) | (good is not None and ind(np.isposinf(a), c < 0))
    zero_hit = ind(np.isinf(a), c == 0) if good else np.zeros_like(nan_hit)
    want_nan = nan_hit | zero_hit | (pos & neg)
    want_pos, want_neg = pos & ~want_nan, neg & ~want_nan

    got = _check.run_api(case, pass_, d, algo)
    assert np.any(want_nan) and np.any(want_pos | want_neg) and np.any(~(want_nan | want_pos | want_neg))
    np.testing.assert_array_equal(np.isnan(got), want_nan)
    np.testing.assert_array_equal(np.isposinf(got), want_pos)
    np.testing.assert_array_equal(np.isneginf(got), want_neg)
    finite = ~(want_nan | want_pos | want_neg)
    clean = dict(d, **{bad: np.where(np.isfinite(a), a, 0).astype(a.dtype)})
    want, mag = _check.run_reference(case, pass_, clean)
    err = _check.rel_error(got[finite], want[finite], mag[finite])
    assert err <= _check.tolerance(dtype, _check.n_terms(case, pass_))
