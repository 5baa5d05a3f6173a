"""Every pass of the compiled conv2d kernels against the float64 reference.

The grid: the shapes of ``python -m convbp check`` plus more odd ones (prime sizes,
stride > kernel, dilated kernel as large as the padded input, asymmetric padding,
padding larger than the kernel and than the input, groups, depthwise with channel
multipliers, 1x1, kernel = input, batch 0) and every padding string with even and
odd total padding and stride > 1. Each (case, pass, dtype, algo) is one test; algo
runs over "auto" and every route ``_core.route_names()`` lists. The error measure and
its bound are ``convbp._check``'s (relative to sum|terms|, Higham's gamma_n).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import convbp
from convbp import _args, _check, reference as ref
from convbp._check import Case

from conftest import ALGOS, record_error

# (H, R, stride, dilation) pairs for the H and W axes: "same" then needs an even
# total padding on one axis and an odd one on the other (or a clamped negative total).
_STRING_GEOMS = [
    ((9, 3, 2, 1), (9, 4, 2, 1)),      # same: 2 (even) / 3 (odd)
    ((10, 2, 3, 1), (12, 3, 3, 2)),    # same: 1 (odd) / 2 (even), stride 3, dilation 2
    ((8, 3, 1, 1), (7, 2, 1, 3)),      # stride 1: 2 / 3
    ((10, 1, 4, 1), (6, 2, 5, 1)),     # stride > kernel: total clamps to 0 / 1
]
STRING_CASES = [
    Case(f"{mode}-H{H}R{R}s{sh}d{dh}-W{W}S{S}s{sw}d{dw}", (2, 3, H, W), (4, 3, R, S),
         stride=(sh, sw), padding=mode, dilation=(dh, dw))
    for mode in _args.PADDING_STRINGS for (H, R, sh, dh), (W, S, sw, dw) in _STRING_GEOMS
]

EXTRA_CASES = [
    Case("primes-7x11-k5x3", (1, 3, 7, 11), (5, 3, 5, 3), stride=(2, 3)),
    Case("stride>kernel-padded", (2, 2, 13, 11), (3, 2, 1, 2), stride=(4, 5), padding=(1, 2)),
    Case("dilated-kernel=padded-input", (1, 2, 9, 7), (2, 2, 3, 3), dilation=(4, 3)),
    Case("asym-padding", (2, 3, 9, 10), (4, 3, 3, 2), stride=(2, 1), padding=(0, 3, 2, 1)),
    Case("pad>input", (2, 3, 4, 4), (2, 3, 3, 3), padding=(5, 5), dilation=(1, 2)),
    Case("pad-only-bottom-right", (1, 2, 6, 6), (2, 2, 3, 3), stride=2, padding=(0, 4, 0, 4)),
    Case("groups-rect-kernel", (2, 4, 12, 8), (6, 2, 1, 3), stride=(1, 3), padding=(0, 0, 1, 1),
         dilation=(1, 2), groups=2),
    Case("groups-4-of-8", (1, 8, 7, 6), (12, 2, 2, 3), padding=(1, 0, 2, 1), groups=4),
    Case("depthwise", (2, 5, 8, 8), (5, 1, 3, 3), padding=1, groups=5),
    Case("depthwise-x3-strided", (1, 5, 13, 11), (15, 1, 3, 3), stride=2, padding="same", dilation=2, groups=5),
    # depthwise (C/groups == 1) with the shapes the plane-dots backward-weight kernel
    # splits on: rows longer than two vectors with padding ending inside one, column
    # stride (split phases), 5x5 taps (more than one register tile), multiplier 4
    Case("depthwise-wide-pad>vector", (2, 3, 7, 70), (3, 1, 3, 5), padding=(2, 0, 20, 3), dilation=(2, 1), groups=3),
    Case("depthwise-s2-asym", (3, 4, 11, 37), (4, 1, 3, 3), stride=(2, 2), padding=(0, 2, 1, 0), groups=4),
    Case("depthwise-5x5-dilated", (2, 2, 12, 9), (2, 1, 5, 5), padding=3, dilation=(1, 2), groups=2),
    Case("depthwise-x4-s2", (3, 2, 9, 10), (8, 1, 2, 3), stride=(1, 2), padding=(1, 0, 0, 2), groups=2),
    Case("depthwise-batch-0", (0, 4, 6, 6), (4, 1, 3, 3), stride=2, padding=1, groups=4),
    # the channel-vector kernels (stride > 1 or planes <= 8x8): a tail block of
    # channels (19 = 16 + 3 float32 lanes, 2 x 8 + 3 float64), 25 taps in chunks
    Case("depthwise-19ch-5x5-s2", (2, 19, 9, 10), (19, 1, 5, 5), stride=2, padding=2, groups=19),
    Case("1x1-strided-groups", (2, 4, 7, 7), (6, 2, 1, 1), stride=2, groups=2),
    # the flat-plane kernels (stride 1, output as wide as the input, rows narrower
    # than a vector): asymmetric padding with fewer output rows than input rows, an
    # odd channel count (channels go in pairs), 25 dilated taps in three chunks, and
    # a plane of 33 vectors (a 4-vector block tail of 1)
    Case("depthwise-flat-asym", (2, 7, 9, 6), (7, 1, 3, 3), padding=(0, 1, 0, 2), groups=7),
    Case("depthwise-flat-5x5-dilated", (1, 3, 11, 11), (3, 1, 5, 5), padding=4, dilation=2, groups=3),
    Case("depthwise-flat-tall", (2, 3, 40, 13), (3, 1, 3, 3), padding=1, groups=3),
    # their tap runs (AVX-512; kernel rows of 3 consecutive taps, one load and two
    # lane shifts): MobileNet's 7x7 planes (flat in float64 too; a 1-lane last block),
    # and 8 x 3 taps in two chunks of 12 (the second adds to what the first wrote)
    Case("depthwise-flat-runs-7x7", (3, 5, 7, 7), (5, 1, 3, 3), padding=1, groups=5),
    Case("depthwise-flat-runs-8x3-two-chunks", (2, 3, 9, 7), (3, 1, 8, 3), padding=(3, 4, 1, 1), groups=3),
    # and the plane-dots kernel's (rows of more than a vector): a row of 37 (float32
    # 16 + 16 + 5), valid padding (dy rows of 33 in x rows of 35), and padding wider
    # than a vector (the middle vectors' column masks are not full)
    Case("depthwise-runs-row-37", (2, 3, 9, 37), (3, 1, 3, 3), padding=1, groups=3),
    Case("depthwise-runs-valid-35", (2, 3, 8, 35), (3, 1, 3, 3), groups=3),
    Case("depthwise-runs-pad>vector", (1, 2, 6, 40), (2, 1, 3, 3), padding=(2, 1, 17, 18), groups=2),
    # strided depthwise with output rows narrower than a vector: stride 2 (odd
    # channel count), stride (2, 1) with the padding all on the left, stride 3 with
    # dilation 2
    Case("depthwise-flat-s2", (2, 5, 14, 10), (5, 1, 3, 3), stride=2, padding=1, groups=5),
    Case("depthwise-flat-s2x1-left-pad", (1, 3, 9, 8), (3, 1, 3, 3), stride=(2, 1), padding=(1, 0, 2, 0), groups=3),
    Case("depthwise-flat-s3-dilated", (1, 2, 12, 12), (2, 1, 3, 3), stride=3, padding=2, dilation=2, groups=2),
    # the plane stride-2 kernel (AVX-512 forward, column stride 2, 3 kernel columns):
    # row stride 1 with outputs of exactly two float32 vectors (the last lane's third
    # tap from the next input vector), 5 dilated kernel rows with asymmetric padding
    # and a partial second vector, and one kernel row with 5 columns of right padding
    Case("depthwise-s2-rows-64", (2, 3, 9, 64), (3, 1, 3, 3), stride=(1, 2), padding=1, groups=3),
    Case("depthwise-s2-5x3-dilated", (1, 4, 17, 33), (4, 1, 5, 3), stride=2, padding=(3, 1, 1, 4), dilation=(2, 1),
         groups=4),
    Case("depthwise-s2-1x3-pad-right", (2, 2, 3, 20), (2, 1, 1, 3), stride=2, padding=(0, 0, 0, 5), groups=2),
    # (70 output rows: two row plans of 64 and 6, made per channel)
    Case("depthwise-s2-tall-rows", (1, 3, 140, 40), (3, 1, 3, 3), stride=2, padding=1, groups=3),
    # (outputs at most half a vector wide: two output rows a vector, float64 too, with
    # an odd row count; 16x16 planes, 8x8 outputs, keep the phase route in fwd)
    Case("depthwise-s2-row-pairs", (2, 3, 9, 6), (3, 1, 3, 3), stride=2, padding=1, groups=3),
    # (35 output rows of 3: 18 pairs, more than one plan's 16, the last a single row)
    Case("depthwise-s2-row-pairs-tall", (1, 2, 70, 6), (2, 1, 3, 3), stride=2, padding=1, groups=2),
    Case("depthwise-phases-s2-16x16", (2, 20, 16, 16), (20, 1, 3, 3), stride=2, padding=1, groups=20),
    # the stride-phase route (AVX-512: planes at most a vector wide split into
    # phases): MobileNet's 14x14 stride 2 with more channels than one split holds
    # (fwd: blocks of 167 and 3; bwd_weight: 83, 83 and 4), more images than one
    # bwd_weight split holds (10: the second batch's sums are added to the
    # first's), and an odd height (the phases' rows do not chain).
    Case("depthwise-phases-s2-170ch", (2, 170, 14, 14), (170, 1, 3, 3), stride=2, padding=1, groups=170),
    Case("depthwise-phases-s2-11-images", (11, 3, 14, 14), (3, 1, 3, 3), stride=2, padding=1, groups=3),
    Case("depthwise-phases-s2-odd-h", (2, 3, 15, 11), (3, 1, 3, 3), stride=2, padding=(1, 0, 1, 1), groups=3),
    # the plane-expand route (AVX-512 backward-input of strided depthwise layers, dx
    # rows of at most 4 vectors): stride 2 over 3 rows (the paired-row loop) with no
    # top padding and a last dx row that no dy row reaches (16 rows, 7 dy rows),
    # with 2 rows of top padding (the first dy row's r = 0 row is above dx), and
    # rows of 29 (float32: 2 vectors, float64: 4, each with a 13- or 5-lane tail);
    # one row tap per dx row (stride 3); three column groups (stride (2, 1)); and
    # vectors of a row that no column reaches (stride 33 across 40 columns, float32;
    # stride 25 across 30, float64).
    Case("depthwise-expand-s2-valid-even", (2, 3, 16, 16), (3, 1, 3, 3), stride=2, groups=3),
    Case("depthwise-expand-s2-top2-tail", (2, 5, 13, 29), (5, 1, 3, 3), stride=2, padding=(2, 0, 1, 2), groups=5),
    Case("depthwise-expand-s3", (1, 4, 21, 21), (4, 1, 3, 3), stride=3, padding=1, groups=4),
    Case("depthwise-expand-s2x1", (2, 3, 12, 20), (3, 1, 3, 3), stride=(2, 1), padding=(1, 1, 2, 0), groups=3),
    Case("depthwise-expand-empty-chunk", (1, 2, 5, 40), (2, 1, 1, 1), stride=(2, 33), groups=2),
    Case("depthwise-expand-empty-chunks-f64", (1, 2, 5, 30), (2, 1, 1, 1), stride=(2, 25), groups=2),
    # stride 1 over 3 kernel rows (the triple-row loop; fwd runs as backward-input of
    # the rot180 kernel): "same" padding with rows of 12 (one float32 vector, two
    # float64), valid padding (fwd: 2 rows of top padding in that form), padding
    # larger than the kernel (fwd: rows above the input's reach), a dilated row
    # (three column groups of all lanes) and rows of 2 vectors with a tail
    Case("depthwise-expand-s1-same", (2, 3, 10, 12), (3, 1, 3, 3), padding=1, groups=3),
    Case("depthwise-expand-s1-valid", (1, 4, 11, 13), (4, 1, 3, 3), groups=4),
    Case("depthwise-expand-s1-pad>kernel", (1, 2, 9, 12), (2, 1, 3, 3), padding=(3, 1, 2, 1), groups=2),
    Case("depthwise-expand-s1-dilated-row", (2, 2, 8, 14), (2, 1, 3, 3), padding=(1, 2), dilation=(1, 2), groups=2),
    Case("depthwise-expand-s1-two-vectors", (1, 3, 6, 29), (3, 1, 3, 3), padding=1, groups=3),
    # bwd_weight's float32 partial sums go to double every 4096 terms per lane: 1000
    # dy rows per image, so every 4 of the 5 images
    Case("depthwise-expand-dots-flush", (5, 2, 2000, 8), (2, 1, 3, 3), stride=2, padding=1, groups=2),
    # and on planes small enough that the dots take channels in pairs (3 channels:
    # a pair and a single), 500 dy rows per image: the sums flush after 8 of 9 images
    Case("depthwise-expand-dots-flush-pairs", (9, 3, 1000, 1), (3, 1, 3, 3), stride=2, padding=1, groups=3),
    # Many channels per group (the broadcast kernels: a group's channels in the
    # vector lanes): a lane tail (17 output channels: 16 + 1), stride > 1 with
    # asymmetric padding and dilation, stride > kernel in backward-input.
    Case("groups-17-per-group-strided", (2, 32, 9, 11), (34, 16, 3, 3), stride=(2, 1), padding=(1, 2, 0, 1),
         dilation=(1, 2), groups=2),
    Case("groups-12x9-stride>kernel", (1, 36, 13, 10), (27, 12, 2, 2), stride=3, padding=(1, 0, 2, 1), groups=3),
    Case("groups-8-per-group", (3, 16, 7, 7), (16, 8, 3, 3), padding=1, groups=2),
    # the broadcast kernels' runs (output rows of at least 8 pixels, consecutive
    # inputs; kernel rows of 3 consecutive taps): stride 2 rows of 20 (two blocks;
    # backward-input phases of 1 and 2 taps a kernel row), a 37-pixel row (blocks
    # of 13, 12, 12 at AVX-512, 10, 9, 9, 9 with 16 registers) under 5x5 taps (tap
    # runs of 5 = 3 + 2), a 1x1 whose whole plane is one run, and 7 images of 750
    # pixels in backward-weight (8 groups: enough tasks that the batch is not split,
    # so float32 partial sums of at most 4096 pixels take 5 images, then 2)
    Case("groups-16-long-rows-s2", (2, 32, 9, 40), (32, 16, 3, 3), stride=2, padding=1, groups=2),
    Case("groups-16-5x5-row-37", (1, 32, 6, 37), (16, 16, 5, 5), padding=2, groups=2),
    Case("groups-16-1x1-plane-run", (2, 32, 5, 7), (48, 16, 1, 1), groups=2),
    Case("groups-16-bwd-weight-flush", (7, 128, 25, 30), (128, 16, 3, 3), padding=1, groups=8),
    # a dense stem (C*R*S = 27): bwd_weight by the broadcast kernels, 20 output
    # channels in the lanes (float32 16 + 4, float64 8 + 8 + 4), rows of 10 at stride 2
    Case("stem-bcast-bwd-weight", (2, 3, 17, 19), (20, 3, 3, 3), stride=2, padding=1),
    # a dense stride-2 forward with more output channels than one direct task
    # blocks (40 = 24 + 16, fewer per block with more threads): an image's tasks
    # reuse the column-phase split of its input that the first of them made
    Case("stem-s2-40-channels", (3, 3, 17, 19), (40, 3, 3, 3), stride=2, padding=1),
    # grouped layers on wide planes (the rows kernel, 4 channels a group): while a
    # task prefetches the next one's input, its rows go in several kernel calls
    # (rows of 150: calls of 13 rows), at row stride 1 and, in backward-input's
    # per-phase rows, 2
    Case("groups-4-wide-rows", (2, 8, 23, 150), (8, 4, 3, 3), padding=1, groups=2),
    Case("groups-4-wide-rows-s2x1", (2, 8, 45, 150), (8, 4, 3, 3), stride=(2, 1), padding=(1, 2, 1, 0), groups=2),
    Case("1x1-padded", (1, 3, 4, 5), (2, 3, 1, 1), padding=1),
    Case("all-ones", (1, 1, 1, 1), (1, 1, 1, 1)),
    Case("kernel=input-groups", (3, 4, 3, 6), (2, 2, 3, 6), groups=2),
    Case("batch-0-valid", (0, 3, 5, 5), (2, 3, 5, 5)),
    Case("tall-thin", (1, 2, 31, 1), (3, 2, 4, 1), stride=(3, 1), padding="same"),
    Case("long-bwd-weight", (8, 2, 40, 40), (3, 2, 3, 3), padding=1),
]

GRID = [c for c in _check.CASES if c.dims == 2] + EXTRA_CASES + STRING_CASES
_ids = lambda c: c.name


def test_string_grid_has_even_and_odd_same_padding():
    """The padding-string cases really cover both parities of the 'same' total, each
    with a stride > 1 on that axis."""
    seen = set()
    for c in STRING_CASES:
        if c.padding in ("same", "same_lower"):
            p = c.params()
            seen.add(((p.pad_top + p.pad_bottom) % 2, p.stride_h > 1))
            seen.add(((p.pad_left + p.pad_right) % 2, p.stride_w > 1))
    assert {(0, True), (1, True)} <= seen


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pass_", ["fwd", "bwd_data", "bwd_weight"])
@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_pass_matches_reference(check, case, pass_, dtype, algo):
    check(case, pass_, dtype, algo)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_bias_matches_reference(check, case, dtype):
    check(case, "bias", dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in GRID if c.name in ("basic-3x3", "groups-3", "pad>input", "batch-0")],
                         ids=_ids)
def test_forward_without_bias(case, dtype):
    d = _check.make_inputs(case, dtype)
    y = convbp.conv2d(d["x"], d["w"], None, **case.conv)
    want = ref.conv2d(d["x"], d["w"], **case.conv)
    mag = ref.conv2d(np.abs(d["x"]), np.abs(d["w"]), **case.conv)
    err = _check.rel_error(y, want, mag)
    assert y.dtype == np.dtype(dtype) and y.shape == want.shape
    assert err <= _check.tolerance(dtype, _check.n_terms(case, "fwd"))
    # without a bias, outputs whose window lies wholly in the padding are exactly 0
    assert np.array_equal(y[mag == 0], np.zeros(int(np.sum(mag == 0)), dtype))


NEED_SUBSETS = [s for k in range(4) for s in itertools.combinations(("input", "weight", "bias"), k)]


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("need", NEED_SUBSETS, ids=lambda s: "+".join(s) or "none")
@pytest.mark.parametrize("case", [c for c in GRID if c.name in ("groups-3", "asym-pad>kernel", "batch-0",
                                                                "same-even-s2")], ids=_ids)
def test_combined_backward_every_need_subset(case, need, dtype, algo):
    d = _check.make_inputs(case, dtype)
    gi, gw, gb = convbp.conv2d_backward(d["x"], d["w"], d["dy"], **case.conv, need=need, algo=algo)
    got = {"input": gi, "weight": gw, "bias": gb}
    passes = {"input": "bwd_data", "weight": "bwd_weight", "bias": "bias"}
    for name, g in got.items():
        if name not in need:
            assert g is None, f"{name} not asked for but returned"
            continue
        want, mag = _check.run_reference(case, passes[name], d)
        assert g.dtype == np.dtype(dtype) and g.flags.c_contiguous and g.shape == want.shape
        err = _check.rel_error(g, want, mag)
        record_error(dtype, passes[name], err, f"conv2d_backward {case.describe()}")
        assert err <= _check.tolerance(dtype, _check.n_terms(case, passes[name])), (name, err)


def test_combined_backward_need_as_single_string():
    case = _check.CASES[0]
    d = _check.make_inputs(case, "float64")
    gi, gw, gb = convbp.conv2d_backward(d["x"], d["w"], d["dy"], **case.conv, need="weight")
    assert gi is None and gb is None
    np.testing.assert_array_equal(gw, convbp.conv2d_backward_weight(d["x"], d["dy"], d["w"].shape, **case.conv))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_depthwise_stride1_forward_without_bias(dtype):
    """The stride-1 depthwise forward pass with no bias (the plane-expand kernel's rows
    start from 0, not a bias) against the naive route."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 14, 20)).astype(dtype)
    w = rng.standard_normal((5, 1, 3, 3)).astype(dtype)
    got = convbp.conv2d(x, w, None, padding=1, groups=5, algo="direct")
    want = convbp.conv2d(x, w, None, padding=1, groups=5, algo="naive")
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5 if dtype == "float32" else 1e-12)
