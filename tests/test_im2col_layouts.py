"""The im2col route in each of its three layouts (cpp/drivers/conv-im2col.hpp),
forced with CONVBP_IM2COL_LAYOUT, against the reference at 1-3 threads: depth
deeper than one GEMM block (C*R*S > kc, K > kc), outputs too small to give every
thread a pixel tile (the channels are split then), several images per thread,
groups, strides and pointwise layers. Auto picks one layout per call, so without
forcing, shapes like these would test only one of them. The batch-lanes layout
(forward, and bwd_data at stride 1; other bwd_data calls fall back to auto) adds
cases of its own: more channels per tap than one depth block (520 > kc), a batch
that leaves lanes empty in its last block of MR images, padding wider than the
kernel's reach (bwd_data then runs with a negative padding: taps that only ever
see the padding), and dilation with asymmetric padding."""

from __future__ import annotations

import numpy as np
import pytest

import convbp
from convbp import _check
from convbp._check import Case

CASES = [
    Case("deep", (3, 72, 5, 6), (20, 72, 3, 3), padding=1),            # C*R*S = 648 > kc
    Case("wide-k", (2, 6, 4, 5), (530, 6, 3, 3), padding=(1, 0)),      # K = 530 > kc
    Case("tiny-out", (1, 16, 2, 2), (40, 16, 2, 2)),                   # one output pixel
    Case("batch", (7, 5, 9, 8), (11, 5, 3, 2), stride=(2, 1), padding="same"),
    Case("groups", (4, 12, 7, 7), (18, 4, 3, 3), padding=1, groups=3),
    Case("pointwise", (5, 24, 7, 9), (36, 24, 1, 1)),
    Case("1d", (3, 10, 40), (14, 10, 5), stride=2, padding=2),
    Case("deep-taps", (2, 520, 4, 3), (10, 520, 3, 3), padding=1),       # C > kc per tap
    Case("batch-9", (9, 6, 5, 4), (7, 6, 3, 3), padding=1),             # a second, 1-lane block
    Case("pad-3", (3, 4, 5, 5), (6, 4, 3, 3), padding=3),                # bwd padding 2 - 3 < 0
    Case("dilated", (4, 6, 8, 7), (5, 6, 3, 2), padding=(2, 0, 1, 2), dilation=(2, 3)),
    Case("1d-same", (5, 12, 30), (9, 12, 7), padding="same"),
]


def _force(monkeypatch, layout, n):
    """The im2col layout `layout` on `n` threads for the rest of the test."""
    monkeypatch.setenv("CONVBP_IM2COL_LAYOUT", layout)
    convbp.set_num_threads(n)


@pytest.mark.parametrize("layout", ["channels", "pixels", "lanes"])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_layout_matches_reference(check, threads, monkeypatch, layout, n, dtype):
    _force(monkeypatch, layout, n)
    for case in CASES:
        d = _check.make_inputs(case, dtype, seed=5)
        for p in ("fwd", "bwd_data", "bwd_weight"):
            check(case, p, dtype, "im2col", data=d)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lanes_on_the_odd_shape_grid(check, threads, monkeypatch, dtype):
    # Auto takes the batch-lanes layout only on large layers (>= 64 channels per
    # tap), so the odd-shape grid (primes, stride > kernel, padding wider than the
    # kernel, dilation, groups, batch 0, conv1d) runs through it only when forced.
    monkeypatch.setenv("CONVBP_IM2COL_LAYOUT", "lanes")
    for n in (1, 2):
        convbp.set_num_threads(n)
        for case in _check.CASES:
            d = _check.make_inputs(case, dtype, seed=7)
            for p in ("fwd", "bwd_data"):
                check(case, p, dtype, "im2col", data=d)


# Batches smaller than the thread count: bwd_data cuts each image's dx rows into
# bands of at least 512 output pixels (neighbouring bands both multiply the output
# rows whose taps cross their border, and each adds only into its own rows), and
# channel parts fill what bands leave. 16 and 7 threads on one to three images:
# halos of a 3x3 and of a strided 7x7, dilation with asymmetric padding, stride
# above the kernel (rows no tap reaches), pointwise and strided 1x1, and fewer
# output rows than threads (bands stop at the rows).
BAND_CASES = [
    Case("band-3x3", (1, 5, 96, 80), (7, 5, 3, 3), padding=1),
    Case("band-7x7s2", (2, 3, 150, 64), (6, 3, 7, 7), stride=2, padding=3),
    Case("band-dilated", (3, 4, 70, 40), (5, 4, 3, 2), padding=(2, 0, 1, 2), dilation=(2, 1)),
    Case("band-stride-gaps", (1, 4, 120, 160), (6, 4, 2, 2), stride=3, padding=(1, 0)),
    Case("band-pointwise", (1, 6, 64, 70), (9, 6, 1, 1)),
    Case("band-1x1s2", (2, 8, 90, 50), (5, 8, 1, 1), stride=2),
    Case("band-few-rows", (1, 3, 4, 900), (4, 3, 1, 1)),
]


@pytest.mark.parametrize("layout", ["channels", "pixels"])
@pytest.mark.parametrize("n", [16, 7])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bwd_data_bands_of_rows_when_images_are_fewer_than_threads(check, threads, monkeypatch, layout, n, dtype):
    _force(monkeypatch, layout, n)
    for case in BAND_CASES:
        d = _check.make_inputs(case, dtype, seed=9)
        check(case, "bwd_data", dtype, "im2col", data=d)
        first = _check.run_api(case, "bwd_data", d, "im2col")
        np.testing.assert_array_equal(_check.run_api(case, "bwd_data", d, "im2col"), first, err_msg=case.name)
