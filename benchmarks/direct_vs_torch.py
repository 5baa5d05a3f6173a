"""Direct route vs naive route vs PyTorch CPU, per pass, on MobileNet-style
depthwise layers and a grouped layer. Calls are interleaved (one of each in turn,
repeated) and the median taken, because the machine is shared; the ratios are
what to read. Run: PYTHONPATH=. python benchmarks/direct_vs_torch.py [--threads 1 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

# NumPy's OpenBLAS pool would otherwise spin beside the measured calls.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import convbp

# (name, N, C, H, K, R, stride, pad, groups)
LAYERS = [
    ("dw3x3 C32 112 s1", 8, 32, 112, 32, 3, 1, 1, 32),
    ("dw3x3 C96 112 s2", 8, 96, 112, 96, 3, 2, 1, 96),
    ("dw3x3 C144 56 s1", 8, 144, 56, 144, 3, 1, 1, 144),
    ("dw3x3 C192 28 s1", 8, 192, 28, 192, 3, 1, 1, 192),
    ("dw3x3 C384 14 s1", 8, 384, 14, 384, 3, 1, 1, 384),
    ("dw3x3 C576 14 s2", 8, 576, 14, 576, 3, 2, 1, 576),
    ("dw3x3 C960 7 s1", 8, 960, 7, 960, 3, 1, 1, 960),
    ("dw5x5 C240 14 s1", 8, 240, 14, 240, 5, 1, 2, 240),
    ("g32 3x3 C128 56 s1", 8, 128, 56, 128, 3, 1, 1, 32),
]

PASSES = ("fwd", "bwd_data", "bwd_weight")


def make_calls(layer, torch):
    _, N, C, H, K, R, st, pad, g = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, H), dtype=np.float32)
    w = rng.standard_normal((K, C // g, R, R), dtype=np.float32)
    kw = dict(stride=st, padding=pad, groups=g)
    y = convbp.conv2d(x, w, **kw, algo="naive")
    dy = rng.standard_normal(y.shape, dtype=np.float32)
    calls = {}
    for algo in ("direct", "naive"):
        calls[algo] = {
            "fwd": lambda a=algo: convbp.conv2d(x, w, **kw, algo=a),
            "bwd_data": lambda a=algo: convbp.conv2d_backward_input(dy, w, x.shape, **kw, algo=a),
            "bwd_weight": lambda a=algo: convbp.conv2d_backward_weight(x, dy, w.shape, **kw, algo=a),
        }
    if torch is not None:
        tx, tw, tdy = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(dy)
        F = torch.nn.functional
        cb = torch.ops.aten.convolution_backward

        def tb(mask):
            return lambda: cb(tdy, tx, tw, None, [st, st], [pad, pad], [1, 1], False, [0, 0], g, mask)

        calls["torch"] = {
            "fwd": lambda: F.conv2d(tx, tw, None, st, pad, 1, g),
            "bwd_data": tb([True, False, False]),
            "bwd_weight": tb([False, True, False]),
        }
    flops = 2.0 * N * K * (C // g) * R * R * y.shape[2] * y.shape[3]
    return calls, flops


def bench(calls, reps, min_time, clock):
    """Median seconds per call of each (impl, pass), interleaved. `clock` is
    time.perf_counter (wall) or time.process_time (CPU time of this process: on a
    shared machine it leaves out the time other processes hold the core, which is
    the fair measure at 1 thread)."""
    times = {(i, p): [] for i in calls for p in PASSES}
    for impl in calls:  # warm-up
        for p in PASSES:
            calls[impl][p]()
    for _ in range(reps):
        for p in PASSES:
            for impl in calls:
                f = calls[impl][p]
                n, t0 = 0, clock()
                while True:
                    f()
                    n += 1
                    dt = clock() - t0
                    if dt >= min_time:
                        break
                times[(impl, p)].append(dt / n)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.05)
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument("--clock", choices=("auto", "wall", "cpu"), default="auto",
                    help="cpu: process CPU time; auto: cpu at 1 thread, wall otherwise")
    ap.add_argument("--layers", type=str, default="", help="substring filter on layer names")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    print(f"isa={convbp.config()['isa']}; GFLOP/s per pass; ratios direct/torch and direct/naive")
    for nt in args.threads:
        convbp.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        logs = {p: [] for p in PASSES}
        for layer in LAYERS:
            if args.layers and args.layers not in layer[0]:
                continue
            calls, flops = make_calls(layer, torch)
            if args.no_naive:
                calls.pop("naive")
            cpu = args.clock == "cpu" or (args.clock == "auto" and nt == 1)
            t = bench(calls, args.reps, args.min_time, time.process_time if cpu else time.perf_counter)
            parts = []
            for p in PASSES:
                g = {i: flops / t[(i, p)] / 1e9 for i in calls}
                s = f"{p}: dir {g['direct']:6.1f}"
                if "torch" in g:
                    s += f" torch {g['torch']:6.1f} x{g['direct'] / g['torch']:5.2f}"
                    logs[p].append(np.log(g["direct"] / g["torch"]))
                if "naive" in g:
                    s += f" naive {g['naive']:5.1f}"
                parts.append(s)
            print(f"[{nt}t] {layer[0]:<20} " + " | ".join(parts), flush=True)
        if torch is not None:
            gm = {p: float(np.exp(np.mean(v))) for p, v in logs.items() if v}
            print(f"[{nt}t] geometric mean direct/torch: " + ", ".join(f"{p} {v:.2f}x" for p, v in gm.items()))


if __name__ == "__main__":
    main()
