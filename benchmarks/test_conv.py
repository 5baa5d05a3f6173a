"""Every layer of a suite x every pass x every implementation (convbp, numpy, torch).

Benchmarks are grouped by layer and pass, so pytest-benchmark's table puts the three
implementations of one layer and pass next to each other. Each baseline's result is checked
against convbp's before it is timed: a mismatch fails the benchmark instead of timing it."""

import pytest

from convbp.bench import baselines as B
from convbp.bench import suites

IMPLS = ("convbp", "numpy", "torch")
_reference = {}  # (layer, pass, dtype) -> convbp's result, computed once


def pytest_generate_tests(metafunc):
    if "layer" in metafunc.fixturenames:
        suite = suites.get(metafunc.config.getoption("--convbp-suite"))
        cases = [(suite.batch, L, p, i) for L in suite.layers for p in B.PASSES for i in IMPLS]
        metafunc.parametrize("batch, layer, pass_, impl", cases,
                             ids=[f"{L.name}-{p}-{i}" for _, L, p, i in cases])


def test_conv(benchmark, request, batch, layer, pass_, impl):
    if impl == "torch" and not B.torch_available():
        pytest.skip("torch is not installed")
    dtype = request.config.getoption("--convbp-dtype")
    case = B.make_case(layer, batch, pass_, dtype)
    try:
        run, to_np = B.PREPARE[impl](case)
    except B.Unsupported as e:
        pytest.skip(str(e))
    key = (layer.name, pass_, dtype)
    if key not in _reference:
        ref_run, ref_np = B.PREPARE["convbp"](case)
        _reference[key] = ref_np(ref_run())
    err = B.max_rel_error(to_np(run()), _reference[key])
    if not err <= B.TOLERANCE[case.dtype]:
        pytest.fail(f"{impl} disagrees with convbp on {layer.name} {pass_}: max rel error {err:.2e}; not timed")
    benchmark.group = f"{layer.name} {pass_} (batch {batch})"
    benchmark.extra_info.update(flops=case.flops, layer=layer.name, pass_=pass_, impl=impl, dtype=dtype,
                                threads=request.config.getoption("--convbp-threads"))
    benchmark(run)
