"""SGEMM against this machine's FP32 peak: convbp's GEMM, numpy.matmul, torch.matmul.

    python benchmarks/gemm_peak.py [--sizes 2048] [--threads 1,2] [--repeats 9]

For each size and thread count the three implementations are timed interleaved in one
process (order rotated each round) and the medians are printed with GFLOP/s and % of
``convbp.peak_gflops(threads)`` (the best of a few measurements). Results are checked
against float64 first. The issue's target: 2048^3 at >= 85 % of peak on 1 thread and
>= 80 % on 2, and no slower than numpy and torch in the same run.
"""

import argparse
import statistics
import time

import numpy as np

import convbp
from convbp import _core


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2048")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None

    for t in (int(s) for s in args.threads.split(",")):
        convbp.set_num_threads(t)
        if torch is not None:
            torch.set_num_threads(t)
        limiter = threadpool_limits(limits=t, user_api="blas") if threadpool_limits else None
        peak = max(convbp.peak_gflops(t) for _ in range(3))
        for n in (int(s) for s in args.sizes.split(",")):
            rng = np.random.default_rng(0)
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            ref = a.astype(np.float64) @ b.astype(np.float64)
            impls = {"convbp": lambda: _core.gemm(a, b), "numpy": lambda: np.matmul(a, b)}
            if torch is not None:
                ta, tb = torch.from_numpy(a), torch.from_numpy(b)
                impls["torch"] = lambda: torch.matmul(ta, tb).numpy()
            for name, f in impls.items():
                err = np.max(np.abs(f() - ref)) / np.max(np.abs(ref))
                assert err < 1e-4, (name, err)
            times = {k: [] for k in impls}
            names = list(impls)
            for r in range(args.repeats):
                for k in names[r % len(names):] + names[: r % len(names)]:
                    t0 = time.perf_counter()
                    impls[k]()
                    times[k].append(time.perf_counter() - t0)
            flops = 2.0 * n * n * n
            print(f"threads={t} n={n} peak={peak:.1f} GFLOP/s")
            print(f"  {'impl':8s} {'median ms':>10s} {'GFLOP/s':>8s} {'% peak':>7s} {'convbp speedup':>15s}")
            med_c = statistics.median(times["convbp"])
            for k in names:
                m = statistics.median(times[k])
                print(f"  {k:8s} {m * 1e3:10.2f} {flops / m / 1e9:8.1f} {100 * flops / m / 1e9 / peak:7.1f} "
                      f"{m / med_c:14.2f}x")
        if limiter is not None:
            limiter.restore_original_limits()


if __name__ == "__main__":
    main()
