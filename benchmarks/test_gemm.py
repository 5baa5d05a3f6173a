"""GEMM micro-benchmark: C = A @ B in float32 on square sizes and on the GEMM shapes of
real conv layers (the forward im2col product: M = K/g, N = batch*P*Q, K = C/g*R*S), for
convbp's GEMM (``convbp._core.gemm``, when the build has it), ``numpy.matmul`` and
``torch.matmul``. The result of each is checked against NumPy's in float64 first."""

import numpy as np
import pytest

from convbp import _core
from convbp.bench import suites

SQUARE = [(n, n, n) for n in (128, 256, 512, 1024)]
CONV_LAYERS = ("resnet.stem", "resnet.l1.3x3", "resnet.l3.3x3", "vgg11.c7", "mobilenet.pw7", "wav2vec2.conv4")


def _conv_shapes():
    layers = {L.name: L for L in suites.get("latency").layers}
    out = []
    for name in CONV_LAYERS:
        p = layers[name].params(1)
        out.append((name, (p.K // p.groups, p.N * p.P * p.Q, p.C // p.groups * p.R * p.S)))
    return out


SHAPES = [(f"square{m}", (m, n, k)) for m, n, k in SQUARE] + _conv_shapes()


def _impl(name):
    if name == "convbp":
        if not hasattr(_core, "gemm"):
            pytest.skip("convbp._core.gemm is not in this build (the GEMM route is not merged yet)")
        return _core.gemm, np.asarray
    if name == "numpy":
        return np.matmul, np.asarray
    torch = pytest.importorskip("torch")
    return (lambda a, b: torch.matmul(a, b)), (lambda r: r.numpy()), torch


@pytest.mark.parametrize("impl", ["convbp", "numpy", "torch"])
@pytest.mark.parametrize("shape", [s for _, s in SHAPES], ids=[n for n, _ in SHAPES])
def test_gemm(benchmark, shape, impl):
    m, n, k = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    got = _impl(impl)
    fn, to_np = got[0], got[1]
    args = (a, b) if impl != "torch" else (got[2].from_numpy(a), got[2].from_numpy(b))
    expected = a.astype(np.float64) @ b.astype(np.float64)
    err = np.max(np.abs(to_np(fn(*args)) - expected)) / np.max(np.abs(expected))
    if not err <= 1e-4:
        pytest.fail(f"{impl} GEMM {m}x{n}x{k}: max rel error {err:.2e}; not timed")
    benchmark.group = f"gemm {m}x{n}x{k}"
    benchmark.extra_info.update(flops=2.0 * m * n * k, impl=impl)
    benchmark(fn, *args)
