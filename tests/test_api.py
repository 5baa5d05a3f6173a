"""The package surface: version, configuration, route explanation, the public names,
and ``python -m convbp`` (check, config, usage)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import convbp
from convbp import _check, _core

ROOT = Path(convbp.__file__).resolve().parent.parent   # where the imported convbp lives (source tree or site-packages)
REPO = Path(__file__).resolve().parent.parent          # the checkout holding these tests


def test_version_is_the_single_source():
    text = (Path(convbp.__file__).parent / "_version.py").read_text()
    assert re.search(r'__version__ = "([^"]+)"', text).group(1) == convbp.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", convbp.__version__)


def test_public_names():
    for name in convbp.__all__:
        assert hasattr(convbp, name), name
    for dim in ("conv1d", "conv2d"):
        for suffix in ("", "_backward", "_backward_input", "_backward_weight", "_backward_bias"):
            f = getattr(convbp, dim + suffix)
            assert callable(f) and f.__doc__ and "%" not in f.__doc__, dim + suffix


def test_show_config_prints_version_isa_threads(capsys):
    convbp.show_config()
    out = capsys.readouterr().out
    cfg = convbp.config()
    assert convbp.__version__ in out
    assert cfg["isa"] in out and cfg["isa"] in ("generic", "avx2", "avx512")
    assert re.search(rf"threads: {convbp.get_num_threads()}\b", out)
    assert cfg["routes"][0] == "auto" and set(cfg["routes"][1:]) == set(_core.route_names())


def test_config_respects_convbp_isa_cap():
    cap = os.environ.get("CONVBP_ISA")
    order = ["generic", "avx2", "avx512"]
    cfg = convbp.config()
    assert order.index(cfg["isa"]) <= order.index(cfg["isa_detected"])
    if cap:
        assert order.index(cfg["isa"]) <= order.index(cap)


def _import_in_subprocess(code, **env):
    import subprocess
    import sys
    from pathlib import Path
    e = dict(os.environ, **env)
    e["PYTHONPATH"] = os.pathsep.join([str(Path(convbp.__file__).resolve().parents[1]), e.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=120)


def test_explain_takes_shapes_as_any_sequence():
    want = convbp.explain((2, 4, 9, 9), (6, 2, 3, 3), groups=2)
    assert convbp.explain(np.array([2, 4, 9, 9]), np.array([6, 2, 3, 3]), groups=2) == want
    assert convbp.explain([2, 4, 9, 9], [6, 2, 3, 3], groups=2) == want
    for bad in ("2,4,9,9", 5, (2, 4, 9)[:2]):
        with pytest.raises(ValueError, match="x_shape must be"):
            convbp.explain(bad, (6, 2, 3, 3))


def test_unknown_convbp_isa_fails_the_import_naming_the_variable():
    p = _import_in_subprocess("import convbp", CONVBP_ISA="garbage")
    assert p.returncode != 0
    assert "CONVBP_ISA='garbage' is not one of 'generic', 'avx2', 'avx512'" in p.stderr
    assert "unset CONVBP_ISA" in p.stderr and "pip install" not in p.stderr  # not a missing build


def test_thread_default_from_omp_num_threads_stays_within_the_bound():
    p = _import_in_subprocess("import convbp; print(convbp.get_num_threads())", OMP_NUM_THREADS="5000")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1024"]  # what set_num_threads accepts at most


@pytest.mark.parametrize("pass_", ["fwd", "bwd_data", "bwd_weight"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_explain_returns_a_route(pass_, dtype):
    e = convbp.explain((2, 4, 9, 9), (6, 2, 3, 3), stride=2, padding="same", groups=2, pass_=pass_, dtype=dtype)
    assert e["route"] in _core.route_names()
    assert e["isa"] == convbp.config()["isa"]
    assert isinstance(e["reason"], str) and e["reason"]
    refused = [r for r, _ in e["refused"]]
    # "auto" takes the first route that accepts: every route before it refused, with a reason
    assert refused == list(_core.route_names())[:len(refused)]
    assert all(why for _, why in e["refused"])


@pytest.mark.parametrize("pass_", ["fwd", "bwd_data", "bwd_weight"])
def test_auto_grouped_rule(pass_):
    # ResNeXt's 16 channels per group fill the broadcast kernels' lanes at every ISA:
    # direct; 128 per group is past the measured break-even: im2col, saying why.
    e = convbp.explain((8, 512, 14, 14), (512, 16, 3, 3), padding=1, groups=32, pass_=pass_)
    assert e["route"] == "direct" and "kernels: broadcast" in e["reason"]
    e = convbp.explain((8, 512, 14, 14), (512, 128, 3, 3), padding=1, groups=4, pass_=pass_)
    assert e["route"] == "im2col"
    assert e["refused"] and e["refused"][0][0] == "direct" and "C/groups=128" in e["refused"][0][1]


def test_auto_dense_stem_rule():
    # a dense layer with a reduction C*R*S <= 32 over several taps (a stem): direct
    # for fwd and bwd_weight, except fwd at column stride > 1 with C*R*S > 16 and
    # batch 1 (direct splits the strided input once per task); bwd_data: im2col
    stem = dict(stride=2, padding=1)
    assert convbp.explain((1, 3, 64, 64), (32, 3, 3, 3), **stem)["route"] == "im2col"
    assert convbp.explain((2, 3, 64, 64), (32, 3, 3, 3), **stem)["route"] == "direct"
    assert convbp.explain((1, 3, 64, 64), (32, 3, 3, 3), padding=1)["route"] == "direct"
    assert convbp.explain((1, 1, 64, 64), (32, 1, 3, 3), **stem)["route"] == "direct"
    assert convbp.explain((1, 3, 64, 64), (32, 3, 3, 3), pass_="bwd_weight", **stem)["route"] == "direct"
    assert convbp.explain((8, 3, 64, 64), (32, 3, 3, 3), pass_="bwd_data", **stem)["route"] == "im2col"
    e = convbp.explain((1, 3, 64, 64), (32, 3, 3, 3), **stem)
    assert "batch 1" in e["refused"][0][1]
    # bwd_weight also at 1x1 up to C = 16, not 17 (MobileNet's 32->64 pointwise
    # layer: im2col); fwd of a 1x1 layer on small planes, and a reduction above 32:
    # im2col
    assert convbp.explain((8, 16, 16, 16), (64, 16, 1, 1), pass_="bwd_weight")["route"] == "direct"
    e = convbp.explain((8, 17, 16, 16), (64, 17, 1, 1), pass_="bwd_weight")
    assert e["route"] == "im2col" and "1x1 with C <= 16" in e["refused"][0][1]
    assert convbp.explain((8, 32, 112, 112), (64, 32, 1, 1), pass_="bwd_weight")["route"] == "im2col"
    assert convbp.explain((8, 64, 16, 16), (64, 64, 1, 1), pass_="bwd_weight")["route"] == "im2col"
    assert convbp.explain((8, 32, 16, 16), (64, 32, 1, 1))["route"] == "im2col"
    assert convbp.explain((8, 4, 16, 16), (64, 4, 3, 3), padding=1)["route"] == "im2col"
    # fwd of a stem with C <= 4 and a larger kernel (C*R*S 33..196, ResNet's 7x7
    # stride 2) on output planes of 64x64 or more: direct at any batch; 8 channels, a
    # 9x9 kernel, or 56x56 outputs: im2col, saying why
    for n in (1, 8):
        assert convbp.explain((n, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3)["route"] == "direct"
    assert convbp.explain((8, 4, 64, 64), (64, 4, 3, 3), padding=1)["route"] == "direct"
    assert convbp.explain((8, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3, pass_="bwd_data")["route"] == "im2col"
    e = convbp.explain((8, 8, 224, 224), (64, 8, 7, 7), stride=2, padding=3)
    assert e["route"] == "im2col" and "C <= 4 and C*R*S <= 196 on output planes of 64x64" in e["refused"][0][1]
    assert convbp.explain((8, 3, 112, 112), (64, 3, 7, 7), stride=2, padding=3)["route"] == "im2col"
    assert convbp.explain((8, 3, 64, 64), (32, 3, 9, 9), padding=4)["route"] == "im2col"
    # fwd of a 1x1 stride-1 layer with C <= 32 on output planes of 64x64 or more
    # (MobileNetV2's 16->96 expansion, MobileNetV1's 32->64): direct; 56x56, 33
    # channels or stride 2: im2col
    for n in (1, 8):
        assert convbp.explain((n, 16, 112, 112), (96, 16, 1, 1))["route"] == "direct"
    assert convbp.explain((8, 32, 112, 112), (64, 32, 1, 1))["route"] == "direct"
    assert convbp.explain((8, 16, 64, 64), (96, 16, 1, 1))["route"] == "direct"
    assert convbp.explain((8, 16, 56, 56), (96, 16, 1, 1))["route"] == "im2col"
    e = convbp.explain((8, 33, 112, 112), (64, 33, 1, 1))
    assert e["route"] == "im2col" and "1x1 at stride 1 with C <= 32" in e["refused"][0][1]
    assert convbp.explain((8, 16, 224, 224), (64, 16, 1, 1), stride=2)["route"] == "im2col"
    assert convbp.explain((8, 16, 112, 112), (96, 16, 1, 1), pass_="bwd_data")["route"] == "im2col"


def test_auto_lanes_rule():
    # the batch-lanes layout where skipping the padding and packing nothing per tile pay
    # (cpp/drivers/conv-im2col-lanes.cpp): R*S > 1, >= 64 channels per tap, a block of MR
    # images <= 16 MiB, useful work <= 98% at stride 1 and <= 93% at larger strides,
    # counting empty lanes; bwd_data only at stride 1; bwd_weight never
    def layout(x, w, **kw):
        e = convbp.explain(x, w, **kw)
        assert e["route"] == "im2col"
        return e["reason"]

    lanes = "batch-lanes layout"
    mr = 6 if convbp.config()["isa"] == "avx2" else (8 if convbp.config()["isa"] == "avx512" else 4)
    n = 2 * mr
    for p in ("fwd", "bwd_data"):
        assert lanes in layout((n, 512, 7, 7), (512, 512, 3, 3), padding=1, pass_=p)          # 81.9% useful
        assert lanes in layout((n, 128, 28, 28), (128, 128, 3, 3), padding=1, pass_=p)        # 95.3%
        assert lanes in layout((n, 64, 56, 56), (64, 64, 3, 3), padding=1, pass_=p)           # 97.6%
        assert lanes not in layout((n, 64, 90, 90), (64, 64, 3, 3), padding=1, pass_=p)       # 98.5%
        assert lanes not in layout((n, 32, 14, 14), (32, 32, 3, 3), padding=1, pass_=p)       # 32 channels
        assert lanes not in layout((n, 512, 56, 56), (512, 512, 3, 3), padding=1, pass_=p)    # block > 16 MiB
        assert lanes not in layout((n, 512, 7, 7), (512, 512, 1, 1), pass_=p)                 # nothing to skip
        assert lanes not in layout((n, 512, 7, 7), (512, 512, 3, 3), pass_=p)                 # no padding
        assert lanes not in layout((n, 128, 28, 28), (256, 128, 3, 3), stride=2, padding=1, pass_=p)  # 95.3%
    assert lanes in layout((n, 256, 14, 14), (512, 256, 3, 3), stride=2, padding=1)          # 90.7%, fwd
    assert lanes not in layout((n, 256, 14, 14), (512, 256, 3, 3), stride=2, padding=1, pass_="bwd_data")
    assert lanes not in layout((1, 512, 7, 7), (512, 512, 3, 3), padding=1)                   # 7 empty lanes
    assert lanes not in layout((n, 512, 7, 7), (512, 512, 3, 3), padding=1, pass_="bwd_weight")


@pytest.mark.parametrize("pass_", ["fwd", "bwd_data", "bwd_weight"])
def test_explain_names_the_direct_kernels(pass_):
    # depthwise at stride 2: channel-vector (with AVX-512, fwd: the plane stride-2
    # kernel, which needs 3 kernel columns, so a 5-wide kernel keeps the
    # channel-vector one; the backward passes: plane expand); a dense stem with
    # C*R*S <= 32: rows, and in bwd_weight broadcast where its 8 output channels fill
    # a vector (AVX2, generic), else (AVX-512's 16 lanes half idle on a 28x28 plane)
    # dots; with 16 output channels broadcast everywhere
    e = convbp.explain((2, 32, 28, 28), (32, 1, 3, 3), stride=2, padding=1, groups=32, pass_=pass_, algo="direct")
    avx512 = convbp.config()["isa"] == "avx512"
    want = ("kernels: plane stride-2 rows" if pass_ == "fwd" else "kernels: plane expand") if avx512 else "kernels: channel-vector"
    assert want in e["reason"]
    e = convbp.explain((2, 32, 28, 28), (32, 1, 3, 5), stride=2, padding=1, groups=32, pass_="fwd", algo="direct")
    assert "kernels: channel-vector" in e["reason"]
    e = convbp.explain((2, 3, 28, 28), (8, 3, 3, 3), padding=1, pass_=pass_, algo="direct")
    half = convbp.config()["isa"] == "avx512"
    assert ("kernels: rows" if pass_ != "bwd_weight" else "kernels: dots" if half else "kernels: broadcast") in e["reason"]
    e = convbp.explain((2, 3, 28, 28), (16, 3, 3, 3), padding=1, pass_=pass_, algo="direct")
    assert ("kernels: broadcast" if pass_ == "bwd_weight" else "kernels: rows") in e["reason"]
    # depthwise 7x7 at stride 1, "same" padding: the plane kernels' flat path; valid
    # padding (output narrower than the input) is not flat (5x5: 3x3 would take the
    # plane-expand kernel with AVX-512)
    plane = "kernels: plane dots" if pass_ == "bwd_weight" else "kernels: plane rows"
    e = convbp.explain((2, 64, 7, 7), (64, 1, 3, 3), padding=1, groups=64, pass_=pass_, algo="direct")
    assert plane in e["reason"] and "flat run" in e["reason"]
    e = convbp.explain((2, 64, 14, 14), (64, 1, 5, 5), groups=64, pass_=pass_, algo="direct")
    assert plane in e["reason"] and "flat run" not in e["reason"]
    # depthwise 14x14 at stride 2 (planes at most a vector wide): with AVX-512, fwd
    # runs the plane stride-2 kernel two output rows a vector (7x7 outputs), and on
    # 16x16 planes (8x8 outputs, too wide for two rows a vector) splits the input into
    # stride phases for the plane kernels; the backward passes run the plane-expand
    # kernels (float64 bwd_weight: channel-vector); the other ISAs keep the
    # channel-vector kernels
    e = convbp.explain((2, 64, 14, 14), (64, 1, 3, 3), stride=2, padding=1, groups=64, pass_=pass_, algo="direct")
    if convbp.config()["isa"] == "avx512":
        if pass_ == "fwd":
            assert "kernels: plane stride-2 rows" in e["reason"] and "two output rows a vector" in e["reason"]
            e = convbp.explain((2, 64, 16, 16), (64, 1, 3, 3), stride=2, padding=1, groups=64, pass_=pass_,
                               algo="direct")
            assert plane in e["reason"] and "stride phases" in e["reason"]
        else:
            assert "kernels: plane expand" in e["reason"]
        e = convbp.explain((2, 64, 14, 14), (64, 1, 3, 3), stride=2, padding=1, groups=64, pass_="bwd_weight",
                           dtype="float64", algo="direct")
        assert "kernels: channel-vector" in e["reason"]
    else:
        assert "kernels: channel-vector" in e["reason"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_explain_plane_expand_limits(dtype):
    """Depthwise layers run the plane-expand kernels (AVX-512) where they were measured
    faster than the kernels they replace: bwd_data at stride 2 over 3 kernel rows, or
    one row tap per dx row, on dx rows of at most 4 vectors; fwd and bwd_data at
    stride 1 over 3 kernel rows on rows wider than half a vector and at most 4 vectors
    (float64: 2), except rows narrower than a vector and as wide as dy's (the flat
    plane kernels take those); bwd_weight only float32, stride 2 over 3 kernel rows on rows of at
    most 2 vectors or stride 1 over 3 kernel rows on rows of exactly 2."""
    def kernels(x, w, pass_="bwd_data", **kw):
        groups = x[1]
        return convbp.explain(x, w, groups=groups, pass_=pass_, dtype=dtype, algo="direct", **kw)["reason"]
    expand, cvec = "kernels: plane expand", "kernels: channel-vector"
    lanes = 16 if dtype == "float32" else 8
    if convbp.config()["isa"] != "avx512":
        assert cvec in kernels((8, 64, 28, 28), (64, 1, 3, 3), stride=2, padding=1)
        return
    assert expand in kernels((8, 64, 4 * lanes, 4 * lanes), (64, 1, 3, 3), stride=2, padding=1)
    assert cvec in kernels((8, 64, 4 * lanes + 1, 4 * lanes + 1), (64, 1, 3, 3), stride=2, padding=1)  # 5 vectors
    assert expand in kernels((8, 64, 21, 21), (64, 1, 3, 3), stride=3, padding=1)       # one row tap per row
    assert cvec in kernels((8, 64, 28, 28), (64, 1, 5, 5), stride=2, padding=2)         # 3 row taps, 5 rows
    assert cvec in kernels((8, 64, 28, 28), (64, 1, 3, 3), stride=2, padding=2, dilation=2)
    # bwd_weight: float32, paired rows, at most 2 vectors; the forward pass never
    dots = "kernels: plane expand dots"
    two = kernels((8, 64, 2 * lanes, 2 * lanes), (64, 1, 3, 3), "bwd_weight", stride=2, padding=1)
    assert (dots in two) == (dtype == "float32")
    assert dots not in kernels((8, 64, 9, 2 * lanes + 1), (64, 1, 3, 3), "bwd_weight", stride=2, padding=1)
    assert dots not in kernels((8, 64, 21, 21), (64, 1, 3, 3), "bwd_weight", stride=3, padding=1)
    assert "plane expand" not in kernels((8, 64, 28, 28), (64, 1, 3, 3), "fwd", stride=2, padding=1)
    # stride 1, 3 kernel rows (fwd in backward-input form, and bwd_data): rows wider
    # than half a vector, at most 4 vectors (float64: 2), but not rows narrower than a
    # vector where dy's are as wide (same padding: flat); never bwd_weight
    flat = "flat run"
    for pass_ in ("fwd", "bwd_data"):
        assert expand in kernels((8, 64, 2 * lanes, 2 * lanes), (64, 1, 3, 3), pass_, padding=1)
        assert expand in kernels((8, 64, 9, lanes), (64, 1, 3, 3), pass_, padding=1)         # one vector
        assert expand in kernels((8, 64, 9, lanes // 2 + 3), (64, 1, 3, 3), pass_, padding=(1, 0))  # valid rows
        assert flat in kernels((8, 64, 9, lanes // 2 + 1), (64, 1, 3, 1), pass_, padding=(1, 0))
        assert flat in kernels((8, 64, 14, lanes - 2), (64, 1, 3, 3), pass_, padding=1)      # 14x14-like
        assert expand not in kernels((8, 64, 9, lanes // 2), (64, 1, 3, 3), pass_, padding=1)   # 7x7-like
        assert expand not in kernels((8, 64, 28, 28), (64, 1, 5, 5), pass_, padding=2)          # 5 rows
        wide = kernels((8, 64, 9, 4 * lanes), (64, 1, 3, 3), pass_, padding=1)
        assert (expand in wide) == (dtype == "float32")
        assert expand not in kernels((8, 64, 9, 4 * lanes + 1), (64, 1, 3, 3), pass_, padding=1)
    # bwd_weight at stride 1: float32 rows of exactly 2 vectors
    two = kernels((8, 64, 9, 2 * lanes), (64, 1, 3, 3), "bwd_weight", padding=1)
    assert (dots in two) == (dtype == "float32")
    assert dots not in kernels((8, 64, 9, lanes), (64, 1, 3, 3), "bwd_weight", padding=1)


@pytest.mark.parametrize("route", _core.route_names())
def test_explain_named_route(route):
    try:
        e = convbp.explain((1, 3, 7), (2, 3, 3), padding="same", algo=route)
    except ValueError as err:  # a route may refuse a call; it must say so
        assert "cannot run" in str(err)
    else:
        assert e["route"] == route and route in e["reason"]


def test_naive_route_is_last_and_accepts_everything():
    names = _core.route_names()
    assert names[-1] == "naive"
    assert convbp.explain((1, 1, 1, 1), (1, 1, 1, 1), algo="naive")["route"] == "naive"


def test_threads_roundtrip(threads):
    convbp.set_num_threads(1)
    assert convbp.get_num_threads() == 1
    assert convbp.config()["threads"] == 1
    convbp.set_num_threads(threads)
    assert convbp.get_num_threads() == threads


def test_peak_gflops_is_positive():
    assert convbp.peak_gflops(1, seconds=0.01) > 0


def _python_m(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    return subprocess.run([sys.executable, "-m", "convbp", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def test_python_m_convbp_check_quick():
    r = _python_m("check", "--quick")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert any(re.search(r"\bfwd\b.*float32.*\bauto\b.*\bok\b", ln) for ln in lines)
    for pass_ in _check.PASSES:
        for dtype in ("float32", "float64"):
            assert re.search(rf"{dtype}\s+{pass_}\s+\d\.\d+e[-+]\d+", r.stdout), (dtype, pass_)
    assert re.search(r"(\d+)/\1 checks passed", r.stdout)


def test_python_m_convbp_usage_and_config():
    r = _python_m("--help")
    assert r.returncode == 0 and "check" in r.stdout
    r = _python_m("nonsense")
    assert r.returncode == 2 and "unknown command" in r.stderr
    r = _python_m("config")
    assert r.returncode == 0 and convbp.__version__ in r.stdout
    r = _python_m("check", "--help")
    assert r.returncode == 0 and "--quick" in r.stdout


def test_readme_example_runs():
    """The README's example, as written there."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(import numpy as np\nimport convbp\n.*?)```", text, re.S)
    assert block, "README example not found"
    exec(compile(block.group(1), "README.md", "exec"), {})


def test_release_workspace_frees_the_cached_blocks():
    # A call's large scratch blocks (here the packed 512x512x3x3 weights, ~9 MB) stay
    # cached after it returns; release_workspace frees them and reports the bytes, and
    # the next call still computes the same result.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 512, 5, 5), dtype=np.float32)
    w = rng.standard_normal((512, 512, 3, 3), dtype=np.float32)
    convbp.release_workspace()
    y = convbp.conv2d(x, w, padding=1, algo="im2col")
    freed = convbp.release_workspace()
    assert freed >= w.nbytes
    assert convbp.release_workspace() == 0
    np.testing.assert_array_equal(convbp.conv2d(x, w, padding=1, algo="im2col"), y)
