"""convbp._check: the error measure can fail (a dropped, doubled or shifted term, a
wrong dtype or layout are all caught), its bound is what the docstring says, and
main() runs every route on every built-in case and reports failures by exit code."""

from __future__ import annotations

import numpy as np
import pytest

from convbp import _check, _core


def test_rel_error_semantics():
    e = np.array([1.0, -2.0, 0.0, 0.0])
    m = np.array([2.0, 4.0, 0.0, 1.0])
    assert _check.rel_error(e, e, m) == 0.0
    assert _check.rel_error(e + [0.5, 0, 0, 0], e, m) == 0.25
    assert _check.rel_error(e + [0, 0, 1e-300, 0], e, m) == np.inf  # all-zero terms: exactly zero
    assert _check.rel_error(e + [0, 0, 0, np.nan], e, m) == np.inf
    assert _check.rel_error(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        _check.rel_error(e[:3], e, m)


def test_tolerance_is_higham_gamma():
    u32, u64 = 2.0**-24, 2.0**-53
    assert _check.tolerance(np.float32, 99) == pytest.approx(100 * u32 / (1 - 100 * u32) + 100 * u64 / (1 - 100 * u64))
    assert _check.tolerance(np.float64, 9) == pytest.approx(2 * 10 * u64 / (1 - 10 * u64))
    assert _check.gamma(2**25, u32) == float("inf")


@pytest.mark.parametrize("case", [c for c in _check.CASES if c.name in ("long-reduction", "basic-3x3", "1d-full")],
                         ids=lambda c: c.name)
@pytest.mark.parametrize("pass_", _check.PASSES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_measure_catches_one_wrong_term(case, pass_, dtype):
    """A result off by half a typical term in one element fails: any dropped, doubled
    or misplaced term is caught (for n terms the bound is about 2*n*u, below 1/(2n)
    while n^2 < 1/(4u), i.e. n < ~2000 in float32)."""
    d = _check.make_inputs(case, dtype)
    got = _check.run_api(case, pass_, d).astype(np.float64)
    want, mag = _check.run_reference(case, pass_, d)
    assert _check.rel_error(got, want, mag) <= _check.tolerance(dtype, _check.n_terms(case, pass_))
    i = np.unravel_index(np.argmax(mag), mag.shape)
    n = _check.n_terms(case, pass_)
    bad = got.copy()
    bad[i] += 0.5 * mag[i] / n  # half the mean |term| of that element
    assert _check.rel_error(bad, want, mag) > _check.tolerance(dtype, n)


def test_check_pass_reports_bad_dtype_and_layout(monkeypatch):
    case = _check.CASES[0]
    real = _check.run_api
    monkeypatch.setattr(_check, "run_api", lambda *a, **k: real(*a, **k).astype(np.float64))
    r = _check.check_pass(case, "fwd", "float32")
    assert not r.ok and "dtype float64" in r.note
    monkeypatch.setattr(_check, "run_api", lambda *a, **k: np.asfortranarray(real(*a, **k)))
    r = _check.check_pass(case, "fwd", "float64")
    assert not r.ok and "not C-contiguous" in r.note


def test_main_fails_when_a_kernel_is_wrong(monkeypatch, capsys):
    real = _check.run_api

    def off_by_a_term(case, pass_, data, algo="auto"):
        out = real(case, pass_, data, algo).copy()
        if out.size and pass_ == "bwd_weight":
            out.reshape(-1)[0] *= 1.001
        return out

    monkeypatch.setattr(_check, "run_api", off_by_a_term)
    assert _check.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "FAILED" in out


def test_main_full_covers_every_route_and_case(capsys):
    assert _check.main([]) == 0
    out = capsys.readouterr().out
    for case in _check.CASES:
        assert case.describe() in out
    for algo in _core.route_names():
        assert f"  {algo}  " in out
    assert "FAIL" not in out


def test_cases_cover_the_odd_corners():
    cs = _check.CASES
    assert {1, 2} <= {c.dims for c in cs}
    assert any(c.x_shape[0] == 0 for c in cs)
    assert any(c.groups > 1 and c.w_shape[1] == 1 and c.w_shape[0] > c.x_shape[1] for c in cs)  # depthwise x mult
    assert {"same", "same_lower", "full"} <= {c.padding for c in cs if isinstance(c.padding, str)}
    assert any(isinstance(c.padding, tuple) and len(set(c.padding)) > 1 for c in cs)  # asymmetric
    assert any(c.w_shape[2:] == c.x_shape[2:] for c in cs)  # kernel = input
    assert any(c.w_shape[2:] == (1, 1) for c in cs)
