"""How much more work does a many-thread call do than a 2-thread one? Measured on one core.

    python benchmarks/partition_work.py [--suite train] [--layers a,b] [--batch 8]
                                        [--threads 16] [--passes fwd,bwd_data,bwd_weight]
                                        [--repeats 3]

Each driver cuts a call into items for ``convbp.get_num_threads()`` threads; cutting
finer can cost work (a pixel operand packed once per part of the channels, a weight
block streamed once per tile, partial sums to add). This script measures that cost
without a machine of that many cores: it sets CONVBP_TEAM_CAP=1 before importing
convbp, so every OpenMP team has one thread, which runs all the items of the
partition the thread count asks for. A call's time is then the total work of that
partition: it compares 2 with --threads (default 16), interleaved in one process,
medians of --repeats readings of two calls each, and prints work(T) / work(2). It
leaves out what only real cores show: memory bandwidth shared by the threads and
the imbalance of unequal items (each thread's share is counted, not the slowest).
"""

import argparse
import os
import statistics
import sys
import time

os.environ["CONVBP_TEAM_CAP"] = "1"  # read once, when the first parallel region opens

import numpy as np  # noqa: E402

import convbp  # noqa: E402
from convbp.bench import suites  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auto_vs_routes import calls  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="train")
    ap.add_argument("--layers", default="", help="comma-separated layer names (default: the whole suite)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--passes", default="fwd,bwd_data,bwd_weight")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    passes = args.passes.split(",")
    wanted = [n for n in args.layers.split(",") if n]
    layers = [layer for layer in suites.get(args.suite).layers if not wanted or layer.name in wanted]
    if wanted and len(layers) != len(wanted):
        missing = sorted(set(wanted) - {layer.name for layer in layers})
        ap.error(f"--layers: not in suite {args.suite!r}: {', '.join(missing)}")
    rng = np.random.default_rng(0)
    counts = (2, args.threads)
    print(f"suite {args.suite!r}, batch {args.batch}: the partition of 2 and of {args.threads} threads, "
          f"each run by one thread (CONVBP_TEAM_CAP=1); medians of {args.repeats} (ms)")
    print(f"{'layer':18s} {'pass':10s} {'work(2)':>9s} {f'work({args.threads})':>9s}  ratio")
    ratios = []
    for layer in layers:
        _, fns = calls(layer, args.batch, rng)
        for pass_ in passes:
            fn = fns[pass_]
            times = {t: [] for t in counts}
            for _ in range(args.repeats):
                for t in counts:
                    convbp.set_num_threads(t)
                    fn("auto")  # warm-up: this partition's scratch and caches
                    t0 = time.perf_counter()
                    fn("auto")
                    fn("auto")
                    times[t].append((time.perf_counter() - t0) / 2)
            med = {t: statistics.median(v) for t, v in times.items()}
            ratio = med[args.threads] / med[2]
            ratios.append((ratio, layer.name, pass_))
            print(f"{layer.name:18s} {pass_:10s} {med[2] * 1e3:9.3f} {med[args.threads] * 1e3:9.3f}  {ratio:5.2f}",
                  flush=True)
    geo = float(np.exp(np.mean(np.log([r[0] for r in ratios]))))
    worst = sorted(ratios, reverse=True)[:5]
    print(f"\n{len(ratios)} layer-passes; geometric mean {geo:.2f}; highest: "
          + ", ".join(f"{n} {p} {r:.2f}" for r, n, p in worst))


if __name__ == "__main__":
    main()
