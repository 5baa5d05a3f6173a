"""Does algo="auto" pick the faster route? Every layer and pass of a suite, im2col vs direct.

    python benchmarks/auto_vs_routes.py [--suite train] [--batch 8] [--threads 1] [--repeats 9]

For each layer and pass the two routes are timed interleaved in one process (the order
rotated each round) and the medians compared; ``convbp.explain`` says which one auto
would run. Prints, per layer and pass, both times, auto's choice and its time over the
better route's; then the worst of those. The issue's target: auto never more than 10%
slower than the better explicit route on any layer.

Timing auto itself would add nothing (it runs the chosen route's code) and would only
measure the order effect of whatever ran before it.
"""

import argparse
import statistics
import time

import numpy as np

import convbp
from convbp.bench import suites

ROUTES = ("im2col", "direct")


def calls(layer, batch, rng):
    xs, ws = layer.x_shape(batch), layer.w_shape
    x = rng.standard_normal(xs, dtype=np.float32)
    w = rng.standard_normal(ws, dtype=np.float32)
    kw = dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups)
    two = len(xs) == 4
    fwd = convbp.conv2d if two else convbp.conv1d
    bwd_in = convbp.conv2d_backward_input if two else convbp.conv1d_backward_input
    bwd_w = convbp.conv2d_backward_weight if two else convbp.conv1d_backward_weight
    dy = rng.standard_normal(fwd(x, w, **kw).shape, dtype=np.float32)
    return kw, {
        "fwd": lambda a: fwd(x, w, algo=a, **kw),
        "bwd_data": lambda a: bwd_in(dy, w, xs, algo=a, **kw),
        "bwd_weight": lambda a: bwd_w(x, dy, ws, algo=a, **kw),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="train")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    convbp.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []
    print(f"suite {args.suite!r}, batch {args.batch}, {args.threads} thread(s), medians of {args.repeats} (ms)")
    print(f"{'layer':18s} {'pass':10s} {'im2col':>9s} {'direct':>9s}  auto      auto/best")
    for layer in suites.get(args.suite).layers:
        kw, fns = calls(layer, args.batch, rng)
        for pass_, fn in fns.items():
            times = {a: [] for a in ROUTES}
            for a in ROUTES:
                fn(a)  # warm-up
            for i in range(args.repeats):
                for a in ROUTES[i % 2:] + ROUTES[:i % 2]:
                    t0 = time.perf_counter()
                    fn(a)
                    times[a].append(time.perf_counter() - t0)
            med = {a: statistics.median(v) for a, v in times.items()}
            chosen = convbp.explain(layer.x_shape(args.batch), layer.w_shape, pass_=pass_, **kw)["route"]
            ratio = med[chosen] / min(med.values())
            rows.append((ratio, layer.name, pass_, chosen))
            print(f"{layer.name:18s} {pass_:10s} {med['im2col'] * 1e3:9.3f} {med['direct'] * 1e3:9.3f}  "
                  f"{chosen:8s}  {ratio:.2f}", flush=True)
    worst = max(rows)
    slow = [r for r in rows if r[0] > 1.10]
    print(f"\n{len(rows)} layer-passes; auto's route is the faster one on "
          f"{sum(r[0] == 1.0 for r in rows)}; worst auto/best {worst[0]:.2f} ({worst[1]} {worst[2]}); "
          f"more than 10% slower on {len(slow)}" + (": " + ", ".join(f"{n} {p}" for _, n, p, _ in slow) if slow else ""))


if __name__ == "__main__":
    main()
