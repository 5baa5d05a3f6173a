"""pytest-benchmark suites of convbp against NumPy and PyTorch CPU.

    pytest benchmarks/ --benchmark-only                                  # the quick suite, 1 thread
    pytest benchmarks/ --benchmark-only --convbp-suite train --convbp-threads 2
    pytest benchmarks/ --benchmark-only --benchmark-autosave             # store, then later:
    pytest benchmarks/ --benchmark-only --benchmark-compare              # compare with the last run

Options (or the environment variables in brackets): --convbp-suite [CONVBP_BENCH_SUITE]
(a suite of suites.json, default quick), --convbp-threads [CONVBP_BENCH_THREADS] (default 1),
--convbp-dtype [CONVBP_BENCH_DTYPE] (default float32). Not part of the CI test run
(pyproject's testpaths is tests/).
"""

import os

import pytest


def pytest_addoption(parser):
    g = parser.getgroup("convbp", "convbp benchmark suites")
    g.addoption("--convbp-suite", default=os.environ.get("CONVBP_BENCH_SUITE", "quick"),
                help="suite of benchmarks/suites.json (default quick)")
    g.addoption("--convbp-threads", type=int, default=int(os.environ.get("CONVBP_BENCH_THREADS", "1")),
                help="threads for every library (default 1)")
    g.addoption("--convbp-dtype", default=os.environ.get("CONVBP_BENCH_DTYPE", "float32"),
                choices=("float32", "float64"))


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


@pytest.fixture(scope="session", autouse=True)
def pinned_threads(request):
    """Every library on --convbp-threads threads (torch imported first so it is pinned too)."""
    from convbp.bench.timing import pin_threads

    torch_or_none()
    n = request.config.getoption("--convbp-threads")
    for note in pin_threads(n):
        print(f"note: {note}")
    return n
