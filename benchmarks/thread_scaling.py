"""Thread scaling of convbp and PyTorch on the large layers of a suite, pass by pass.

    python benchmarks/thread_scaling.py [--threads 1,2,4,8,12,16] [--batch N] [--min-gflop 5] [--json F]
    python benchmarks/thread_scaling.py --from F       # the tables again, from a saved run

Runs ``python -m convbp bench`` once over the chosen thread counts (each thread count in a
process of its own, each implementation in a worker process of its own: ``--isolate``, so
two OpenMP thread pools never share the cores), then prints, for every layer, pass and
implementation, the median time at 1 thread and the speed-up t(1) / t(T) at each T, and the
parallel efficiency t(1) / (T * t(T)) at the largest T; then the geometric means per pass.
The last lines give the machine's own ceiling: the FMA-throughput peak at T threads over T
times the peak at 1 (below 1 where T exceeds the physical cores, or clocks drop with load).

"Large" layers: those of at least ``--min-gflop`` GFLOP per pass at the suite's batch
(2*N*K*(C/g)*R*S*P*Q); ``--layers`` names others instead. ``--batch`` runs the suite at
another batch size (the train suite's 8 leaves 16 threads half a sample each). The issue's target: parallel
efficiency >= 75% at 16 threads on the large layers, reported beside PyTorch's.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

PASSES = ("fwd", "bwd_data", "bwd_weight")


def large_layers(suite_name, min_gflop, suite_file=None):
    from convbp.bench import suites
    suite = suites.get(suite_name, suite_file)
    return [L.name for L in suite.layers if L.params(suite.batch).flops / 1e9 >= min_gflop]


def with_batch(suite_name, batch):
    """A suites file like convbp's, with ``suite_name`` at ``batch``: its path."""
    from convbp.bench import suites
    with open(suites.data_path()) as f:
        data = json.load(f)
    if suite_name not in data["suites"]:
        raise SystemExit(f"thread_scaling: no suite {suite_name!r} (known: {', '.join(data['suites'])})")
    data["suites"][suite_name]["batch"] = batch
    fd, path = tempfile.mkstemp(suffix=".json", prefix="convbp-suites-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    return path


def run_bench(args, layers, json_path):
    cmd = [sys.executable, "-m", "convbp", "bench", "--suite", args.suite, "--layers", ",".join(layers),
           *(["--suite-file", args.suite_file] if args.suite_file else []),
           "--threads", args.threads, "--passes", args.passes, "--against", "torch", "--isolate",
           "--repeats", str(args.repeats), "--block", str(args.block), "--budget", str(args.budget),
           "--json", json_path, "--no-progress"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def tables(records):
    """The scaling tables as a string, from bench's JSON records."""
    ok = [r for r in records if r["status"] == "ok" and r["median_s"]]
    threads = sorted({r["threads"] for r in ok})
    if 1 not in threads or len(threads) < 2:
        raise SystemExit("thread_scaling: the records need 1 thread and at least one other count")
    tmax = threads[-1]
    t = defaultdict(dict)  # (layer, pass, impl) -> {threads: median_s}
    peak = {}
    order = []
    for r in ok:
        key = (r["layer"], r["pass"], r["impl"])
        if key not in t:
            order.append(key)
        t[key][r["threads"]] = r["median_s"]
        peak[r["threads"]] = max(peak.get(r["threads"], 0.0), r["peak_gflops"] or 0.0)
    head = (f"{'layer':18s} {'pass':10s} {'impl':6s} {'ms@1':>8s} "
            + " ".join(f"{'x' + str(n):>6s}" for n in threads[1:]) + f" {'eff@' + str(tmax):>7s} {'/torch@' + str(tmax):>9s}")
    lines = [f"speed-up t(1)/t(T) per thread count T; eff = t(1) / (T * t(T)); /torch = torch's time / convbp's",
             head, "-" * len(head)]
    eff = defaultdict(list)   # (pass, impl) -> efficiencies at tmax
    spd = defaultdict(lambda: defaultdict(list))  # (pass, impl) -> T -> speed-ups
    ratio = defaultdict(list)  # pass -> torch / convbp at tmax
    for key in order:
        layer, pass_, impl = key
        ts = t[key]
        if 1 not in ts:
            continue
        ups = [ts[1] / ts[n] if n in ts else None for n in threads[1:]]
        e = ts[1] / (tmax * ts[tmax]) if tmax in ts else None
        other = t.get((layer, pass_, "torch"), {}).get(tmax)
        r = other / ts[tmax] if impl == "convbp" and other and tmax in ts else None
        lines.append(f"{layer:18s} {pass_:10s} {impl:6s} {1e3 * ts[1]:8.2f} "
                     + " ".join(f"{u:6.2f}" if u else f"{'-':>6s}" for u in ups)
                     + (f" {100 * e:6.0f}%" if e else f" {'-':>7s}") + (f" {r:9.2f}" if r else ""))
        if e:
            eff[(pass_, impl)].append(e)
        for n, u in zip(threads[1:], ups):
            spd[(pass_, impl)][n].append(u)
        if r:
            ratio[pass_].append(r)
    lines += ["", "geometric means", head, "-" * len(head)]
    for pass_ in PASSES + ("all",):
        for impl in ("convbp", "torch"):
            passes = PASSES if pass_ == "all" else (pass_,)
            ups = [geomean([u for p in passes for u in spd[(p, impl)][n]]) for n in threads[1:]]
            e = geomean([x for p in passes for x in eff[(p, impl)]])
            r = geomean([x for p in passes for x in ratio[p]]) if impl == "convbp" else None
            if e is None:
                continue
            lines.append(f"{'':18s} {pass_:10s} {impl:6s} {'':8s} " + " ".join(f"{u:6.2f}" if u else f"{'-':>6s}" for u in ups)
                         + f" {100 * e:6.0f}%" + (f" {r:9.2f}" if r else ""))
    if peak.get(1):
        lines += ["", "machine ceiling: FMA peak at T threads / (T * peak at 1 thread)   (peak GFLOP/s at 1: "
                  f"{peak[1]:.1f})",
                  "  " + "  ".join(f"T={n}: {peak[n] / (n * peak[1]):.2f}" for n in threads if n in peak)]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="train")
    ap.add_argument("--batch", type=int, default=None, help="the batch size (default: the suite's)")
    ap.add_argument("--threads", default=None,
                    help="comma-separated thread counts, 1 first (default 1,2,4,8,12,16 up to the cores here)")
    ap.add_argument("--layers", default=None, help="comma-separated layer names (default: the large layers)")
    ap.add_argument("--min-gflop", type=float, default=5.0, help="a layer is large from this many GFLOP per pass")
    ap.add_argument("--passes", default=",".join(PASSES))
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--block", type=int, default=2)
    ap.add_argument("--budget", type=float, default=0.6)
    ap.add_argument("--json", default=None, help="keep bench's records in this file")
    ap.add_argument("--from", dest="from_", default=None, metavar="FILE",
                    help="print the tables of a saved run (bench's --json records); nothing is timed")
    args = ap.parse_args()
    if args.from_:
        with open(args.from_) as f:
            print(tables(json.load(f)))
        return
    if args.threads is None:
        cores = os.cpu_count() or 1
        args.threads = ",".join(str(n) for n in (1, 2, 4, 8, 12, 16) if n <= cores)
    args.suite_file = with_batch(args.suite, args.batch) if args.batch else None
    layers = args.layers.split(",") if args.layers else large_layers(args.suite, args.min_gflop, args.suite_file)
    if not layers:
        raise SystemExit(f"thread_scaling: no layer of suite {args.suite!r} has {args.min_gflop} GFLOP per pass")
    if args.json:
        path = args.json
    else:
        fd, path = tempfile.mkstemp(suffix=".json", prefix="convbp-scaling-")
        os.close(fd)
    run_bench(args, layers, path)
    with open(path) as f:
        print(tables(json.load(f)))


if __name__ == "__main__":
    main()
