"""The benchmark harness (convbp.bench): suites load, baselines agree with convbp, the CLI
writes the documented JSON, a wrong baseline is reported and not timed, and the NumPy-only
path works with torch hidden. No timing is asserted here (performance lives in benchmarks/)."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from convbp.bench import baselines as B
from convbp.bench import cli, suites
from convbp.bench.progress import Progress
from convbp.bench.suites import Layer

FIELDS = ("suite", "layer", "pass", "impl", "dtype", "threads", "median_s", "gflops", "peak_gflops")

TINY = {
    "layers": [
        {"name": "tiny.g2", "family": "grouped", "in": [4, 9, 8], "out": 6, "kernel": [3, 2],
         "stride": [2, 1], "padding": [1, 1], "dilation": [1, 2], "groups": 2},
        {"name": "tiny.1d", "family": "conv1d", "in": [3, 17], "out": 4, "kernel": [3], "stride": 2, "padding": 1},
    ],
    "suites": {"tiny": {"batch": 2, "layers": "*"}},
}

# Geometries where index slips would show: asymmetric padding, odd strides and dilations,
# groups, depthwise with a channel multiplier, 1-D.
GEOMETRIES = [
    Layer("asym", "x", (6, 9, 11), 4, (3, 2), stride=(2, 3), padding=(1, 2, 0, 1), dilation=(2, 1), groups=2),
    Layer("dw_mult", "x", (4, 8, 7), 8, (3, 3), stride=2, padding=1, groups=4),
    Layer("pointwise_s2", "x", (5, 7, 6), 3, (1, 1), stride=2),
    Layer("conv1d", "x", (6, 20), 4, (3,), stride=2, padding=2, dilation=2, groups=2),
    Layer("same", "x", (3, 6, 7), 2, (2, 4), padding="same"),
]


@pytest.fixture
def tiny_suite(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return str(path)


def _run_cli(args, capsys):
    rc = cli.main(args)
    return rc, capsys.readouterr().out


def test_shipped_suites_load_and_quick_covers_every_family():
    all_suites = suites.load()
    assert {"train", "latency", "quick"} <= set(all_suites)
    assert all_suites["train"].batch == 8 and all_suites["latency"].batch == 1
    families = {L.family for L in all_suites["train"].layers}
    assert {L.family for L in all_suites["quick"].layers} == families
    for L in all_suites["train"].layers:
        p = L.params(8)
        assert p.flops == 2 * p.N * p.K * (p.C // p.groups) * p.R * p.S * p.P * p.Q


def test_bad_suite_file_names_the_layer(tmp_path):
    bad = {"layers": [{"name": "broken", "in": [3, 8, 8], "out": 4, "kernel": [3, 3], "groups": 2}],
           "suites": {}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="broken"):
        suites.load(path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pass_", B.PASSES)
@pytest.mark.parametrize("layer", GEOMETRIES, ids=lambda L: L.name)
def test_baselines_agree_with_convbp(layer, pass_, dtype):
    case = B.make_case(layer, 2, pass_, dtype, seed=1)
    run, to_np = B.PREPARE["convbp"](case)
    ref = to_np(run())
    impls = ["numpy"] + (["torch"] if B.torch_available() else [])
    for impl in impls:
        try:
            run, to_np = B.PREPARE[impl](case)
        except B.Unsupported:
            assert impl == "torch"  # torch takes symmetric padding only
            continue
        out = to_np(run())
        assert out.shape == ref.shape and out.dtype == ref.dtype
        assert B.max_rel_error(out, ref) <= B.TOLERANCE[np.dtype(dtype)] / 100, impl


def test_cli_json_records(tiny_suite, tmp_path, capsys):
    out_json = tmp_path / "r.json"
    rc, out = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--against", "numpy", "--repeats", "2",
                        "--threads", "1", "--json", str(out_json), "--no-progress"], capsys)
    assert rc == 0
    recs = json.loads(out_json.read_text())
    assert len(recs) == 2 * 3 * 2  # layers x passes x impls
    assert {(r["layer"], r["pass"], r["impl"]) for r in recs} == {
        (L, p, i) for L in ("tiny.g2", "tiny.1d") for p in B.PASSES for i in ("convbp", "numpy")}
    for r in recs:
        assert all(k in r for k in FIELDS)
        assert r["suite"] == "tiny" and r["dtype"] == "float32" and r["threads"] == 1
        assert r["status"] == "ok" and 2 <= r["repeats"] == len(r["times_s"])
        assert r["median_s"] > 0 and r["peak_gflops"] > 0
        assert r["gflops"] == pytest.approx(r["flops"] / r["median_s"] / 1e9)
    assert "geometric mean" in out and "tiny.g2" in out and "/numpy" in out


def test_mismatch_is_reported_not_timed(tiny_suite, tmp_path, monkeypatch, capsys):
    good = B.PREPARE["numpy"]

    def broken(case):
        run, to_np = good(case)
        return (lambda: run() + 1.0), to_np

    monkeypatch.setitem(B.PREPARE, "numpy", broken)
    out_json = tmp_path / "r.json"
    rc, out = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--layers", "tiny.1d", "--passes", "fwd",
                        "--against", "numpy", "--repeats", "2", "--json", str(out_json), "--no-progress"], capsys)
    assert rc == 0
    recs = {r["impl"]: r for r in json.loads(out_json.read_text())}
    assert recs["numpy"]["status"] == "mismatch"
    assert recs["numpy"]["median_s"] is None and recs["numpy"]["times_s"] == [] and recs["numpy"]["max_rel_err"] > 1e-3
    assert recs["convbp"]["status"] == "ok" and recs["convbp"]["median_s"] > 0
    assert "MISMATCH" in out and "mismatch: numpy tiny.1d fwd" in out


def test_numpy_only_with_torch_hidden(tiny_suite, tmp_path):
    out_json = tmp_path / "r.json"
    code = ("import sys; sys.modules['torch'] = None\n"  # makes `import torch` raise ImportError
            "from convbp.bench.cli import main\n"
            f"rc = main(['--suite-file', {tiny_suite!r}, '--suite', 'tiny', '--passes', 'fwd,bwd_weight', "
            f"'--repeats', '2', '--json', {str(out_json)!r}, '--no-progress'])\n"
            "assert sys.modules['torch'] is None\n"
            "sys.exit(rc)\n")
    # cwd=tmp_path: `python -c` puts the current directory first on sys.path, and the repository
    # root holds a convbp/ source tree that may lack the compiled module (CI installs convbp).
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "torch is not installed" in p.stdout
    recs = json.loads(out_json.read_text())
    assert {r["impl"] for r in recs} == {"convbp", "numpy"} and all(r["status"] == "ok" for r in recs)
    # Asking for torch explicitly is an error, not a silent omission.
    code = code.replace("'--passes'", "'--against', 'torch', '--passes'")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 2 and "torch is not installed" in p.stderr


def test_torch_columns(tiny_suite, tmp_path, capsys):
    pytest.importorskip("torch")
    out_json = tmp_path / "r.json"
    rc, out = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--passes", "bwd_data", "--repeats", "2",
                        "--json", str(out_json), "--no-progress"], capsys)
    assert rc == 0 and "/torch" in out
    recs = json.loads(out_json.read_text())
    assert {r["impl"] for r in recs} == {"convbp", "numpy", "torch"} and all(r["status"] == "ok" for r in recs)


def test_isolate_times_in_worker_processes(tiny_suite, tmp_path, capsys):
    out_json = tmp_path / "r.json"
    rc, out = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--layers", "tiny.g2", "--passes", "fwd",
                        "--against", "numpy", "--threads", "1,2", "--repeats", "2", "--isolate",
                        "--json", str(out_json), "--no-progress"], capsys)
    assert rc == 0 and "--isolate" in out
    recs = json.loads(out_json.read_text())
    assert {(r["impl"], r["threads"]) for r in recs} == {(i, t) for i in ("convbp", "numpy") for t in (1, 2)}
    assert all(r["isolate"] and r["status"] == "ok" and r["median_s"] > 0 for r in recs)


def test_plot(tiny_suite, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "s.png"
    rc, _ = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--against", "numpy", "--repeats", "1",
                      "--settle", "0", "--plot", str(png), "--no-progress"], capsys)
    assert rc == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--suite", "nope"], "unknown suite 'nope'"),
    (["--passes", "fwd,sideways"], "--passes"),
    (["--against", "tensorflow"], "--against"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--quick", "--suite", "train"], "--quick"),
    (["--layers", "no-such-layer"], "matches no layer"),
])
def test_cli_errors(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_progress_bar_draws():
    s = io.StringIO()
    bar = Progress(2, stream=s, enabled=True)
    bar.step("first")
    bar.step("second")
    bar.close()
    assert "0/2" in s.getvalue() and "1/2" in s.getvalue() and "second" in s.getvalue()


def test_run_restores_thread_counts(tiny_suite, capsys):
    import convbp
    before = convbp.get_num_threads()
    target = 1 if before != 1 else 2
    rc, _ = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--layers", "tiny.1d", "--passes", "fwd",
                      "--against", "numpy", "--threads", str(target), "--repeats", "1", "--settle", "0",
                      "--no-progress"], capsys)
    assert rc == 0 and convbp.get_num_threads() == before


def test_thread_counts_with_torch_run_in_processes_of_their_own(tiny_suite, tmp_path, capsys):
    # oneDNN keeps a convolution built for the thread count of its first call, so with
    # torch among the baselines each thread count is timed in a fresh process; the
    # records of all of them are merged into --json.
    pytest.importorskip("torch")
    out_json = tmp_path / "r.json"
    rc, out = _run_cli(["--suite-file", tiny_suite, "--suite", "tiny", "--layers", "tiny.1d", "--passes", "fwd",
                        "--threads", "1,2", "--repeats", "2", "--json", str(out_json), "--no-progress"], capsys)
    assert rc == 0 and "runs in a process of its own" in out
    assert out.count("threads=1") >= 1 and out.count("threads=2") >= 1
    recs = json.loads(out_json.read_text())
    assert {(r["impl"], r["threads"]) for r in recs} == {(i, t) for i in ("convbp", "numpy", "torch") for t in (1, 2)}
    assert all(r["status"] == "ok" and r["median_s"] > 0 for r in recs)


def _scaling_module():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "thread_scaling.py"
    spec = importlib.util.spec_from_file_location("thread_scaling", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_thread_scaling_tables(tmp_path):
    """benchmarks/thread_scaling.py: speed-ups t(1)/t(T), efficiency t(1)/(T t(T)) at the
    largest T, torch / convbp at that T, the machine's ceiling from the peaks; records that
    did not run are left out."""
    mod = _scaling_module()
    recs = []
    for impl, times in (("convbp", {1: 0.8, 2: 0.4, 4: 0.25}), ("torch", {1: 1.0, 2: 0.6, 4: 0.5})):
        for t, s in times.items():
            recs.append(dict(layer="big", **{"pass": "fwd"}, impl=impl, threads=t, median_s=s, status="ok",
                             peak_gflops={1: 100.0, 2: 200.0, 4: 300.0}[t]))
    recs.append(dict(layer="big", **{"pass": "bwd_data"}, impl="torch", threads=1, median_s=None,
                     status="mismatch", peak_gflops=100.0))
    out = mod.tables(recs)
    row = next(line for line in out.splitlines() if line.startswith("big") and "convbp" in line).split()
    assert row[3:] == ["800.00", "2.00", "3.20", "80%", "2.00"]      # 0.8/0.25 = 3.2; 3.2/4; 0.5/0.25
    row = next(line for line in out.splitlines() if line.startswith("big") and "torch" in line).split()
    assert row[3:] == ["1000.00", "1.67", "2.00", "50%"]
    assert "bwd_data" not in out.split("geometric means")[0]
    assert "T=4: 0.75" in out                                          # 300 / (4 * 100)
    p = tmp_path / "recs.json"
    p.write_text(json.dumps(recs))
    r = subprocess.run([sys.executable, str(mod.__file__), "--from", str(p)], capture_output=True, text=True)
    assert r.returncode == 0 and out in r.stdout
    with pytest.raises(SystemExit, match="1 thread"):
        mod.tables([rec for rec in recs if rec["threads"] != 1])
