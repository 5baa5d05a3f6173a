"""Timing: thread pinning for every library, interleaved repeated runs, and runners that
time an implementation in this process or, with ``--isolate``, in a worker process of its
own (``convbp.bench.worker``).

Why interleave: the machine's load drifts (other processes, clocks); running A, B, C, then
B, C, A, ... spreads the drift over every implementation instead of charging it to one.
Why medians: one slow run (a page fault, a context switch) must not move the result.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import convbp

from .baselines import PREPARE, Case

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_blas_limiter = None  # keeps threadpoolctl's limit alive


def pin_threads(n: int) -> List[str]:
    """Use ``n`` threads in convbp, torch (when imported) and NumPy's BLAS (through
    threadpoolctl when installed). Returns notes on what could not be pinned."""
    global _blas_limiter
    notes = []
    convbp.set_num_threads(n)
    torch = sys.modules.get("torch")  # pinned only when something imported it
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        env = ", ".join(f"{k}={os.environ[k]}" for k in THREAD_ENV if k in os.environ) or "none set"
        notes.append("threadpoolctl is not installed, so NumPy's BLAS keeps the thread count it read "
                     f"from the environment at start-up ({env}); --isolate sets those variables "
                     "in each worker, or install threadpoolctl (pip install 'convbp[bench]')")
    else:
        if _blas_limiter is not None:  # so the new limiter records the original limits
            _blas_limiter.restore_original_limits()
        _blas_limiter = threadpool_limits(limits=n, user_api="blas")
    return notes


def thread_state() -> dict:
    """The thread counts ``pin_threads`` changes, for ``restore_threads``."""
    torch = sys.modules.get("torch")
    return {"convbp": convbp.get_num_threads(), "torch": torch.get_num_threads() if torch is not None else None}


def restore_threads(state: dict) -> None:
    """Undo ``pin_threads``: a benchmark run from Python leaves the process as it found it."""
    global _blas_limiter
    convbp.set_num_threads(state["convbp"])
    torch = sys.modules.get("torch")
    if torch is not None and state.get("torch"):
        torch.set_num_threads(state["torch"])
    if _blas_limiter is not None:
        _blas_limiter.restore_original_limits()
        _blas_limiter = None


def openmp_runtimes() -> List[str]:
    """Paths of the OpenMP runtimes loaded in this process (Linux: from /proc/self/maps).

    convbp links the system libgomp; torch ships its own copy. Both carry the soname
    libgomp.so.1, so the dynamic loader maps only the first one loaded and the two share one
    runtime; two entries here would mean two thread pools competing for the cores."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    names = ("libgomp", "libiomp", "libomp")
    return sorted(p for p in paths if os.path.basename(p).startswith(names) and ".so" in os.path.basename(p))


def time_call(run: Callable) -> float:
    """Seconds one call of ``run`` takes (garbage collection off; the result is freed
    outside the timed region)."""
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        result = run()
        dt = time.perf_counter() - t0
    finally:
        if gc_was_on:
            gc.enable()
    del result
    return dt


class InProcess:
    """Times a prepared implementation in this process."""

    def __init__(self, impl: str):
        self.impl = impl
        self._run: Optional[Callable] = None

    def setup(self, case: Case, run: Optional[Callable] = None) -> None:
        self._run = run if run is not None else PREPARE[self.impl](case)[0]

    def time_once(self) -> float:
        return time_call(self._run)

    def close(self) -> None:
        self._run = None


def convbp_main_cmd(module: str, args: Sequence[str]) -> List[str]:
    """The command line that runs ``module.main(args)`` in a new Python process which
    imports the same convbp as this one (not whatever ``convbp/`` its current directory
    holds, e.g. a source tree without the compiled module)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(convbp.__file__)))
    boot = (f"import sys; sys.path.insert(0, sys.argv[1]); from {module} import main; "
            "sys.exit(main(sys.argv[2:]))")
    return [sys.executable, "-c", boot, root, *args]


class Isolated:
    """Times an implementation in a worker process of its own (``python -m
    convbp.bench.worker``), started with every library's thread variables set to
    ``threads`` and importing only what that implementation needs."""

    def __init__(self, impl: str, threads: int):
        self.impl = impl
        env = dict(os.environ, **{k: str(threads) for k in THREAD_ENV})
        self._p = subprocess.Popen(convbp_main_cmd("convbp.bench.worker", [impl, str(threads)]),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                                   bufsize=1)
        self._call({"op": "hello"})

    def _call(self, msg: dict) -> dict:
        try:
            self._p.stdin.write(json.dumps(msg) + "\n")
            self._p.stdin.flush()
            line = self._p.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise RuntimeError(f"the {self.impl} worker process exited (code {self._p.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.impl} worker: {reply['error']}")
        return reply

    def setup(self, case: Case, run=None) -> None:
        self._call({"op": "setup", "layer": dataclasses.asdict(case.layer), "batch": case.batch,
                    "pass": case.pass_, "dtype": case.dtype.name, "seed": case.seed})

    def time_once(self) -> float:
        return float(self._call({"op": "time"})["seconds"])

    def close(self) -> None:
        if self._p.poll() is None:
            try:
                self._p.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self._p.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self._p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._p.kill()
                self._p.wait()


def measure(runners: Dict[str, object], repeats: int, block: int = 3, settle_s: float = 0.1,
            min_rounds: int = 2, budget_s: Optional[float] = None,
            settle_after: Optional[Dict[str, float]] = None) -> Dict[str, List[float]]:
    """Interleaved timing in rounds: each round visits every runner once, in an order
    rotated by one per round; a visit first *settles* (untimed calls until ``settle_s`` has
    passed, at least one call), then times ``block`` calls. Up to ``repeats`` timed calls
    per runner; stops early once ``min_rounds`` rounds are done and the timed calls have
    used ``budget_s``.

    Why settle: a library's worker threads keep running after its call returns (OpenBLAS's
    busy-wait for up to ~2^28 cycles, Intel OpenMP's 200 ms blocktime), and when every core
    is in use they slow down whatever runs next. Measured here with 2 threads on 2 cores:
    convbp right after NumPy's BLAS took 1.3-1.5x as long as right after itself, and the gap
    closed when OpenBLAS was told to stop spinning (OPENBLAS_THREAD_TIMEOUT=4). The first
    settle call also serves as the warm-up.

    ``settle_after`` maps a runner to a longer settle for the visit that follows it:
    OpenBLAS's threads spin for ~0.1 s after its last call, and a descheduled OpenMP thread
    costs a whole scheduler tick (4 ms) at every barrier. Measured here at 2 threads with
    a 0.05 s settle: a 3x3 layer's backward-input right after NumPy took 8.8 ms instead of
    1.5 ms; with 0.3 s it took 1.5 ms.
    """
    settle_after = settle_after or {}
    prev = None  # unknown: whatever ran before (the result check runs every library) may spin
    names = list(runners)
    times: Dict[str, List[float]] = {name: [] for name in names}
    rounds = -(-repeats // block)
    spent = 0.0
    for i in range(rounds):
        k = i % len(names) if names else 0
        for name in names[k:] + names[:k]:
            runner = runners[name]
            settle = max([settle_s, settle_after.get(prev, 0.0)] if prev else [settle_s, *settle_after.values()])
            prev = name
            t0 = time.perf_counter()
            runner.time_once()
            while time.perf_counter() - t0 < settle:
                runner.time_once()
            for _ in range(min(block, repeats - len(times[name]))):
                dt = runner.time_once()
                times[name].append(dt)
                spent += dt
        if budget_s is not None and i + 1 >= min_rounds and spent >= budget_s:
            break
    return times
