"""Shared fixtures of the kernel tests.

- ``ALGOS``: "auto" plus every route ``_core.route_names()`` lists, read at collection
  time, so a route added later is tested by every parametrized test automatically.
- ``check``: one pass of one case through the compiled kernels against
  ``convbp.reference`` (``convbp._check.check_pass``: error relative to sum|terms|,
  Higham's gamma_n bound), asserting it passes and recording the error.
- At the end of the session the largest relative error seen per dtype and pass is
  printed (pytest's terminal summary).
"""

from __future__ import annotations

import numpy as np
import pytest

import convbp
from convbp import _check, _core

ALGOS = ("auto",) + tuple(_core.route_names())

# (dtype name, pass) -> (largest relative error seen, the case it was seen on)
_WORST: dict = {}


def record_error(dtype, pass_: str, err: float, where: str = "") -> None:
    key = (np.dtype(dtype).name, pass_)
    if err == err and err > _WORST.get(key, (-1.0, ""))[0]:
        _WORST[key] = (err, where)


def pytest_terminal_summary(terminalreporter):
    if not _WORST:
        return
    tr = terminalreporter
    tr.section("convbp: largest relative error (|actual - reference| / sum|terms|) per dtype and pass")
    for (dt, ps), (err, where) in sorted(_WORST.items()):
        tr.write_line(f"{dt:8} {ps:11} {err:.3e}   {where}")


@pytest.fixture
def check():
    """check(case, pass_, dtype, algo="auto", **kw) -> Result: asserts the compiled
    kernels match the reference within the bound, records the error."""
    def run(case, pass_, dtype, algo="auto", **kw):
        r = _check.check_pass(case, pass_, dtype, algo, **kw)
        # Every route computes every geometry (README, "Routes"): a refusal is a failure.
        assert r.note != "refused", f"route {algo!r} refused {pass_} of {case.describe()} ({r.dtype})"
        record_error(dtype, pass_, r.err, f"{case.describe()} algo={algo}")
        assert r.ok, (f"{pass_} {r.dtype} algo={algo} route={r.route} on {case.describe()}: "
                      f"rel err {r.err:.3e} > tol {r.tol:.3e} {r.note}")
        return r
    return run


@pytest.fixture
def threads():
    """Restores convbp's thread count after a test that changes it."""
    n = convbp.get_num_threads()
    yield n
    convbp.set_num_threads(n)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
