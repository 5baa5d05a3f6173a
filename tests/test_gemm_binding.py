"""convbp._core.gemm: op(a) @ op(b) with convbp's GEMM (used by nn.Linear), every
transpose combination, both dtypes, odd and empty sizes, against NumPy in float64."""

import numpy as np
import pytest

from convbp import _core


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("mnk", [(1, 1, 1), (7, 13, 5), (33, 17, 129), (64, 50, 3), (0, 4, 3), (5, 0, 2), (4, 3, 0)])
def test_gemm_matches_numpy(mnk, ta, tb, dtype):
    m, n, k = mnk
    rng = np.random.default_rng(m * 100 + n * 10 + k)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    got = _core.gemm(a, b, trans_a=ta, trans_b=tb)
    assert got.shape == (m, n) and got.dtype == dtype
    tol = (1e-5 if dtype == np.float32 else 1e-13) * max(k, 1)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_gemm_refuses_bad_operands():
    a, b = np.zeros((3, 4), np.float32), np.zeros((5, 2), np.float32)
    with pytest.raises(ValueError, match="inner dimensions must agree"):
        _core.gemm(a, b)
    with pytest.raises(ValueError, match="both float32 or both float64"):
        _core.gemm(a, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.gemm(a[:, ::2], np.zeros((2, 2), np.float32))
