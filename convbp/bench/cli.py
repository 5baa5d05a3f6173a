"""``python -m convbp bench``: time convbp against NumPy and PyTorch CPU on real network
layers (the suites in benchmarks/suites.json), pass by pass.

For every thread count: pin every library to it, measure this machine's FP32 peak
(``convbp.peak_gflops``, before the sweep and after every layer; the best counts), then for every layer and pass: check each baseline's result
against convbp's (a mismatch is reported, never timed), warm up, time the implementations
interleaved and keep the median. Prints a table per thread count and per-pass geometric
means; ``--json`` writes one record per (layer, pass, impl, threads).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from typing import List, Optional, Sequence

import numpy as np

import convbp

from . import suites as suites_mod
from .baselines import IMPL_NAMES, PASSES, PREPARE, TOLERANCE, Unsupported, make_case, max_rel_error, torch_available
from .progress import Progress
from .report import geomeans, table
from .timing import InProcess, Isolated, convbp_main_cmd, measure, openmp_runtimes, pin_threads, restore_threads, thread_state

SPIN_SETTLE_S = 0.3  # OpenBLAS's threads spin ~0.1 s after a call (timing.measure)
QUICK = dict(suite="quick", repeats=4, block=2, settle=0.05, budget=0.3, peak_seconds=0.1)


def _csv(kind, allowed=None, conv=str):
    def parse(text: str):
        try:
            items = [conv(v.strip()) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be a comma-separated list, got {text!r}") from None
        bad = [v for v in items if allowed is not None and v not in allowed]
        if not items or bad:
            raise argparse.ArgumentTypeError(f"{kind}: {bad or text!r} not in {', '.join(map(str, allowed))}")
        return items
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m convbp bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", help="suite name from the suites file (default: train; see --list)")
    p.add_argument("--suite-file", help="a suites JSON file of your own (default: convbp's)")
    p.add_argument("--layers", type=_csv("--layers"), help="keep layers whose name contains one of these")
    p.add_argument("--quick", action="store_true",
                   help="the quick suite (one small layer per family, batch 1) with few repeats")
    p.add_argument("--passes", type=_csv("--passes", PASSES), default=list(PASSES), help="fwd,bwd_data,bwd_weight")
    p.add_argument("--threads", type=_csv("--threads", conv=int),
                   help="comma-separated thread counts (default: convbp's current count)")
    p.add_argument("--against", type=_csv("--against", IMPL_NAMES[1:]),
                   help="baselines: numpy,torch (default: numpy, and torch when it is installed)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--isolate", action="store_true",
                   help="time each implementation in a worker process of its own")
    p.add_argument("--repeats", type=int, help="timed runs per implementation at most (default 12, quick 4)")
    p.add_argument("--block", type=int,
                   help="timed runs per implementation per round; rounds interleave the implementations "
                        "(default 3, quick 2)")
    p.add_argument("--settle", type=float,
                   help="seconds of untimed runs before each block, so the previous library's spinning "
                        "threads are gone and this one is warm (default 0.1, quick 0.05; at least one run)")
    p.add_argument("--budget", type=float,
                   help="seconds of timed runs per layer and pass after which rounds stop (at least 2 rounds; "
                        "default 1.0, quick 0.3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="write the records as a JSON list")
    p.add_argument("--plot", metavar="FILE.png", help="write a PNG of speedups per layer and pass (matplotlib)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the suites and their layers, then exit")
    return p


def _record(case, impl, threads, status, err, times, isolate, note="") -> dict:
    """One JSON record; peak_gflops and pct_peak are filled in at the end of the sweep."""
    L = case.layer
    rec = {"suite": None, "layer": L.name, "family": L.family, "pass": case.pass_, "impl": impl,
           "dtype": case.dtype.name, "threads": threads, "batch": case.batch,
           "x_shape": list(L.x_shape(case.batch)), "w_shape": list(L.w_shape), "flops": case.flops,
           "median_s": None, "min_s": None, "repeats": 0, "gflops": None, "peak_gflops": None,
           "pct_peak": None, "status": status, "max_rel_err": err, "isolate": isolate, "note": note,
           "times_s": []}
    if times:
        med = float(np.median(times))
        rec.update(median_s=med, min_s=float(min(times)), repeats=len(times), times_s=list(times),
                   gflops=case.flops / med / 1e9)
    return rec


def _check(case, impls, prepared, failed) -> dict:
    """Run each implementation once and compare with convbp: {impl: max relative error}.
    Marks mismatches and failures in ``failed`` (impl -> (status, note))."""
    errs = {}
    run, to_np = prepared["convbp"]
    ref = to_np(run())
    tol = TOLERANCE[case.dtype]
    for impl in impls:
        if impl == "convbp" or impl in failed:
            continue
        try:
            run, to_np = prepared[impl]
            errs[impl] = max_rel_error(to_np(run()), ref)
        except Exception as e:  # a baseline that crashes is reported, the run goes on
            failed[impl] = ("error", f"{type(e).__name__}: {e}")
            continue
        if not errs[impl] <= tol:
            failed[impl] = ("mismatch", f"max|{impl} - convbp| / max|convbp| = {errs[impl]:.2e} > {tol:g}")
    errs["convbp"] = 0.0
    return errs


def run(suite, passes: Sequence[str], threads_list: Sequence[int], impls: Sequence[str], dtype="float32",
        repeats=12, block=3, settle=0.1, budget=1.0, isolate=False, seed=0, peak_seconds=0.2, progress=True,
        log=print) -> List[dict]:
    """Benchmark ``suite`` (a suites.Suite); returns the records (see the module docstring)."""
    records = []
    bar = Progress(len(threads_list) * len(suite.layers) * len(passes), enabled=None if progress else False)
    saved = thread_state()
    try:
        for t in threads_list:
            for note in pin_threads(t):
                log(f"note: {note}")
            # The peak is the best FMA throughput seen: measured before the sweep and again
            # after every layer, so a busy moment at the start cannot set it low.
            peak = convbp.peak_gflops(t, peak_seconds)
            sweep = []
            runners = {i: (Isolated(i, t) if isolate else InProcess(i)) for i in impls}
            # After NumPy's multi-threaded BLAS, settle long enough for its spinning
            # threads to stop (see timing.measure).
            spinners = {"numpy": max(settle, SPIN_SETTLE_S)} if t > 1 and "numpy" in impls else {}
            try:
                for layer in suite.layers:
                    for pass_ in passes:
                        bar.step(f"threads={t} {layer.name} {pass_}")
                        sweep += _one(suite, layer, pass_, t, impls, runners, dtype,
                                      dict(repeats=repeats, block=block, settle_s=settle, budget_s=budget,
                                           settle_after=spinners),
                                      isolate, seed)
                    peak = max(peak, convbp.peak_gflops(t, peak_seconds / 4))
            finally:
                for r in runners.values():
                    r.close()
            for rec in sweep:
                rec["peak_gflops"] = peak
                rec["pct_peak"] = 100.0 * rec["gflops"] / peak if rec["gflops"] is not None else None
            records += sweep
    finally:
        bar.close()
        restore_threads(saved)
    return records


def _one(suite, layer, pass_, t, impls, runners, dtype, how, isolate, seed):
    case = make_case(layer, suite.batch, pass_, dtype, seed)
    failed, prepared = {}, {}
    for impl in impls:
        try:
            prepared[impl] = PREPARE[impl](case)
        except Unsupported as e:
            failed[impl] = ("unsupported", str(e))
    try:
        errs = _check(case, impls, prepared, failed)
    except Exception as e:  # convbp itself failed: nothing to compare with, nothing timed
        errs = {}
        failed = {i: ("error", f"convbp failed: {type(e).__name__}: {e}") for i in impls}
    timed = [i for i in impls if i not in failed]
    for i in timed:
        runners[i].setup(case, prepared[i][0])
    times = measure({i: runners[i] for i in timed}, **how) if timed else {}
    out = []
    for impl in impls:
        status, note = failed.get(impl, ("ok", ""))
        rec = _record(case, impl, t, status, errs.get(impl), times.get(impl), isolate, note)
        rec["suite"] = suite.name
        out.append(rec)
    return out


def _header(suite, impls, passes, threads, dtype, isolate) -> str:
    cfg = convbp.config()
    omp = openmp_runtimes()
    lines = [f"convbp {cfg['version']} ({cfg['isa']}, {cfg['compiler']}), numpy {np.__version__}"
             + (f", torch {sys.modules['torch'].__version__}" if "torch" in impls else "")
             + f", {platform.machine()} with {_cores()} cores",
             f"suite {suite.name!r}: {len(suite.layers)} layers at batch {suite.batch}; passes {','.join(passes)}; "
             f"threads {','.join(map(str, threads))}; {dtype}; "
             + ("each implementation in its own process (--isolate)" if isolate else "all in this process"),
             f"OpenMP runtimes loaded here: {len(omp)} ({', '.join(omp) or 'none found'})"]
    if len(omp) > 1:
        lines.append("note: two OpenMP runtimes mean two thread pools sharing the cores; try --isolate")
    return "\n".join(lines)


def _cores() -> int:
    import os
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _write_outputs(records: List[dict], impls: Sequence[str], args) -> int:
    """--json and --plot of the records."""
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(records, f, indent=1)
        print(f"wrote {len(records)} records to {args.json}")
    if args.plot:
        from .plot import plot_speedups
        plot_speedups(records, impls, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _thread_counts_in_processes(argv: List[str], threads: Sequence[int], impls: Sequence[str], args) -> int:
    """Runs the same command once per thread count, each in a process of its own, and
    merges the records for --json / --plot.

    PyTorch's CPU convolutions (oneDNN) build each convolution's primitive for the
    thread count of its first call and cache it: in one process, a second thread count
    timed torch with the first one's work split (measured here: resnet.l4.3x3 fwd at 2
    threads, torch 15.9 ms after a 1-thread sweep, 7.8 ms in a fresh process).
    """
    print(f"note: PyTorch keeps each convolution built for the thread count of its first call, "
          f"so each of --threads {','.join(map(str, threads))} runs in a process of its own")
    records: List[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for t in threads:
            path = os.path.join(tmp, f"threads-{t}.json")
            # The last --threads / --json / --plot on the command line wins (argparse).
            cmd = convbp_main_cmd("convbp.bench.cli", [*argv, "--threads", str(t), "--json", path, "--plot", ""])
            p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            print("".join(line for line in p.stdout.splitlines(keepends=True) if path not in line), end="")
            if p.returncode != 0:
                return p.returncode
            with open(path, encoding="utf-8") as f:
                records += json.load(f)
    return _write_outputs(records, impls, args)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.quick and args.suite not in (None, QUICK["suite"]):
        parser.error(f"--quick runs the {QUICK['suite']!r} suite; drop --suite {args.suite} or --quick")
    q = QUICK if args.quick else {}
    repeats = args.repeats if args.repeats is not None else q.get("repeats", 12)
    budget = args.budget if args.budget is not None else q.get("budget", 1.0)
    args.block = args.block if args.block is not None else q.get("block", 3)
    args.settle = args.settle if args.settle is not None else q.get("settle", 0.1)
    if repeats < 1 or args.block < 1 or args.settle < 0 or budget <= 0:
        parser.error(f"need --repeats >= 1, --block >= 1, --settle >= 0, --budget > 0; "
                     f"got {repeats}, {args.block}, {args.settle}, {budget}")
    try:
        all_suites = suites_mod.load(args.suite_file)
    except (OSError, ValueError) as e:
        parser.error(str(e))
    if args.list:
        for s in all_suites.values():
            print(f"{s.name}: batch {s.batch}, {len(s.layers)} layers. {s.about}")
            for L in s.layers:
                print(f"    {L.name:<20} {L.family:<22} {L.describe()}")
        return 0
    name = args.suite or q.get("suite", "train")
    if name not in all_suites:
        parser.error(f"unknown suite {name!r}; known suites: {', '.join(all_suites)}")
    suite = all_suites[name]
    if args.layers:
        kept = tuple(L for L in suite.layers if any(s in L.name for s in args.layers))
        if not kept:
            parser.error(f"--layers {','.join(args.layers)} matches no layer of suite {name!r}")
        suite = suites_mod.Suite(suite.name, suite.batch, kept, suite.about)
    threads = args.threads or [convbp.get_num_threads()]
    if any(t < 1 for t in threads):
        parser.error(f"--threads must be >= 1, got {threads}")
    notes = []
    if args.against is None:
        against = ["numpy"] + (["torch"] if torch_available() else [])
        if "torch" not in against:
            notes.append("torch is not installed: the torch columns are left out")
    else:
        against = list(dict.fromkeys(args.against))
        if "torch" in against and not torch_available():
            parser.error("--against torch: torch is not installed (pip install torch)")
    impls = ["convbp"] + against
    if "torch" in impls:
        import torch  # noqa: F401  (loaded before the threads are pinned, so its pool is pinned too)
    if args.plot:
        try:
            from .plot import require_matplotlib
            require_matplotlib()
        except ImportError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    if len(threads) > 1 and "torch" in impls and not args.isolate:
        return _thread_counts_in_processes(list(sys.argv[1:] if argv is None else argv), threads, impls, args)

    print(_header(suite, impls, args.passes, threads, args.dtype, args.isolate))
    for n in notes:
        print(f"note: {n}")
    records = run(suite, args.passes, threads, impls, args.dtype, repeats=repeats, block=args.block,
                  settle=args.settle, budget=budget, isolate=args.isolate, seed=args.seed,
                  peak_seconds=q.get("peak_seconds", 0.2), progress=not args.no_progress)
    for t in threads:
        print()
        print(table(records, impls, t))
        print()
        print(geomeans(records, impls, t))
    bad = [r for r in records if r["status"] not in ("ok",)]
    if bad:
        print()
        for r in bad:
            print(f"{r['status']}: {r['impl']} {r['layer']} {r['pass']} threads={r['threads']}: {r['note']}")
    print("\nms: median of the timed runs; GF/s: 2*N*K*(C/g)*R*S*P*Q / median; %pk: of the best FP32 FMA "
          "throughput\nconvbp.peak_gflops measured during the sweep; /numpy, /torch: that library's median "
          "time / convbp's (> 1: convbp is faster)")
    return _write_outputs(records, impls, args)
