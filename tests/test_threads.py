"""Threads: calls from many Python threads at once (the GIL is released inside the
kernels) give the serial results bit for bit; every thread count gives correct
results; the same call with the same thread count is bit-identical."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import convbp
from convbp import _check
from convbp._check import Case

from conftest import ALGOS

CASES = [
    Case("thr-2d", (4, 8, 16, 15), (8, 4, 3, 3), stride=(1, 2), padding="same", groups=2),
    Case("thr-2d-strided", (3, 6, 13, 17), (9, 6, 4, 2), stride=3, padding=(2, 1, 0, 3), dilation=(1, 2)),
    Case("thr-1d", (4, 8, 101), (16, 8, 5), stride=2, padding="full"),
    # depthwise: stride 2 on 14x14 planes (AVX-512: the stride-phase split), stride
    # 1 on 7x7 (the flat kernels and their per-thread mask tables)
    Case("thr-depthwise-s2", (3, 40, 14, 14), (40, 1, 3, 3), stride=2, padding=1, groups=40),
    Case("thr-depthwise-flat", (3, 40, 7, 7), (40, 1, 3, 3), padding=1, groups=40),
]
PASSES = _check.PASSES


def _run_all(data):
    """Every pass of every case: {(case, pass): result}."""
    return {(c.name, p): _check.run_api(c, p, data[c.name]) for c in CASES for p in PASSES}


@pytest.fixture(scope="module")
def data():
    return {c.name: _check.make_inputs(c, "float32", seed=11) for c in CASES}


def test_concurrent_python_threads_match_serial(data, threads):
    serial = _run_all(data)
    n_threads, rounds = 8, 3
    results = [[] for _ in range(n_threads)]
    errors = []
    start = threading.Barrier(n_threads)

    def worker(i):
        try:
            start.wait()
            for _ in range(rounds):
                results[i].append(_run_all(data))
        except Exception as e:  # reported below; an exception must not vanish in a thread
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    for i, per_thread in enumerate(results):
        assert len(per_thread) == rounds
        for got in per_thread:
            for key, want in serial.items():
                np.testing.assert_array_equal(got[key], want, err_msg=f"thread {i} {key}")


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_thread_count_is_correct_and_repeatable(check, threads, n, dtype, algo):
    convbp.set_num_threads(n)
    assert convbp.get_num_threads() == n
    for case in CASES:
        d = _check.make_inputs(case, dtype, seed=3)
        for p in PASSES:
            if p == "bias" and algo != "auto":
                continue
            check(case, p, dtype, algo, data=d)
            first = _check.run_api(case, p, d, algo)
            np.testing.assert_array_equal(_check.run_api(case, p, d, algo), first, err_msg=f"{case.name} {p}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_many_threads_split_one_group_by_columns_and_pixels(check, threads, dtype):
    """At 16 threads im2col's backward-weight splits one group's dW into column sets and
    pixel parts (here both: 2 images of 8x8 pixels against 32*9 columns), the parts'
    partial sums added in order: correct, and the same on every call."""
    case = Case("bw-16-threads", (2, 32, 8, 8), (16, 32, 3, 3), padding=1)
    convbp.set_num_threads(16)
    d = _check.make_inputs(case, dtype, seed=5)
    check(case, "bwd_weight", dtype, "im2col", data=d)
    first = _check.run_api(case, "bwd_weight", d, "im2col")
    np.testing.assert_array_equal(_check.run_api(case, "bwd_weight", d, "im2col"), first)


def test_thread_count_is_process_wide(threads):
    seen = []
    convbp.set_num_threads(1)
    t = threading.Thread(target=lambda: seen.append(convbp.get_num_threads()))
    t.start()
    t.join()
    assert seen == [1]
    convbp.set_num_threads(2)
    t = threading.Thread(target=lambda: seen.append(convbp.get_num_threads()))
    t.start()
    t.join()
    assert seen == [1, 2]


def test_changing_threads_during_calls_stays_correct(data, threads):
    """One thread flips the thread count (1..4) while others compute: no crash, results
    within the bound (bit-identity across counts is not promised). A call sizes its
    per-thread scratch and its team from one pinned count (ThreadCountPin); before
    that, a flip in between overflowed the scratch (seen under AddressSanitizer)."""
    stop = threading.Event()
    errors = []

    def flipper():
        n = 1
        while not stop.is_set():
            convbp.set_num_threads(n)
            n = n % 4 + 1

    def worker():
        try:
            for _ in range(3):
                for case, p in ((c, p) for c in CASES for p in PASSES):
                    r = _check.check_pass(case, p, "float32", data=data[case.name])
                    assert r.ok, (case.name, p, r.err, r.tol)
        except Exception as e:
            errors.append(e)

    f = threading.Thread(target=flipper)
    ws = [threading.Thread(target=worker) for _ in range(4)]
    f.start()
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    stop.set()
    f.join()
    assert not errors, errors


TEAM_CAP_CASES = [
    Case("cap-bw-split", (2, 32, 8, 8), (16, 32, 3, 3), padding=1),       # bwd_weight: sets x pixel parts
    Case("cap-bands", (1, 5, 96, 80), (7, 5, 3, 3), padding=1),          # bwd_data: bands of rows
    Case("cap-tiles", (2, 24, 7, 7), (40, 24, 1, 1), stride=2),          # fwd: tiles against row parts
    Case("cap-depthwise", (3, 40, 14, 14), (40, 1, 3, 3), stride=2, padding=1, groups=40),
]
_CAP_SCRIPT = """
import sys, numpy as np, convbp
from convbp import _check
from convbp._check import Case
cases = [{cases}]
convbp.set_num_threads(16)
out = {{}}
for c in cases:
    d = _check.make_inputs(c, "float32", seed=4)
    for p in ("fwd", "bwd_data", "bwd_weight"):
        for a in ("im2col", "direct"):
            out[f"{{c.name}} {{p}} {{a}}"] = _check.run_api(c, p, d, a)
np.savez(sys.argv[1], **out)
"""


def test_team_cap_runs_the_same_partition(tmp_path, threads):
    """CONVBP_TEAM_CAP=1 (benchmarks/partition_work.py) runs a 16-thread call's items on
    one thread: the partition is the 16-thread one, so the results are bit for bit those
    of 16 real threads (the items and the order their partial sums are added in are the
    same). A driver whose work depended on the team it got, not on its thread count,
    would differ or fail here."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    spec = ", ".join(
        f"Case({c.name!r}, {c.x_shape!r}, {c.w_shape!r}, stride={c.stride!r}, padding={c.padding!r}, "
        f"dilation={c.dilation!r}, groups={c.groups!r})" for c in TEAM_CAP_CASES)
    env = dict(os.environ, CONVBP_TEAM_CAP="1")
    env["PYTHONPATH"] = os.pathsep.join([str(Path(convbp.__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    out = tmp_path / "capped.npz"
    p = subprocess.run([sys.executable, "-c", _CAP_SCRIPT.format(cases=spec), str(out)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    capped = np.load(out)
    convbp.set_num_threads(16)
    assert len(capped.files) == len(TEAM_CAP_CASES) * 6
    for c in TEAM_CAP_CASES:
        d = _check.make_inputs(c, "float32", seed=4)
        for p_ in ("fwd", "bwd_data", "bwd_weight"):
            for a in ("im2col", "direct"):
                np.testing.assert_array_equal(capped[f"{c.name} {p_} {a}"], _check.run_api(c, p_, d, a),
                                              err_msg=f"{c.name} {p_} {a}")
