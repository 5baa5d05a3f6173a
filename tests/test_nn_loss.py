"""CrossEntropyLoss and MSELoss: values and backward against finite differences and
against PyTorch."""

import numpy as np
import pytest

from convbp import nn

CASES = [((5, 4), (5,)), ((2, 3, 4, 2), (2, 4, 2))]   # (input shape, target shape)


def _fd(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        fp = f()
        a[i] = old - eps
        fm = f()
        a[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shapes", CASES)
def test_cross_entropy_backward_finite_differences(shapes, reduction):
    rng = np.random.default_rng(0)
    z = rng.standard_normal(shapes[0]) * 3
    t = rng.integers(0, shapes[0][1], size=shapes[1])
    loss = nn.CrossEntropyLoss(reduction=reduction)
    value = loss(z, t)
    assert np.ndim(value) == 0 and value.dtype == np.float64
    np.testing.assert_allclose(loss.backward(), _fd(lambda: float(loss(z, t)), z), rtol=1e-6, atol=1e-8)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0], [-1000.0, 0.0]], np.float32)
    value = nn.CrossEntropyLoss()(z, np.array([0, 0]))
    assert np.isfinite(value) and value == pytest.approx(500.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shapes", CASES)
def test_losses_match_pytorch(shapes, reduction, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    z = (rng.standard_normal(shapes[0]) * 2).astype(dtype)
    t = rng.integers(0, shapes[0][1], size=shapes[1])
    target = rng.standard_normal(shapes[0]).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for ours, theirs, tgt, ttgt in [
            (nn.CrossEntropyLoss(reduction), torch.nn.CrossEntropyLoss(reduction=reduction), t, torch.from_numpy(t)),
            (nn.MSELoss(reduction), torch.nn.MSELoss(reduction=reduction), target, torch.from_numpy(target))]:
        zt = torch.from_numpy(z.copy()).requires_grad_(True)
        value, tvalue = ours(z, tgt), theirs(zt, ttgt)
        np.testing.assert_allclose(value, tvalue.detach().numpy(), **tol)
        up = 1.0 if reduction != "none" else rng.standard_normal(np.shape(value)).astype(dtype)
        tvalue.backward(torch.as_tensor(up, dtype=zt.dtype))
        g = ours.backward(up)
        assert g.dtype == dtype and g.shape == z.shape
        np.testing.assert_allclose(g, zt.grad.numpy(), **tol)


def test_mse_backward_finite_differences():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loss = nn.MSELoss()
    loss(x, y)
    np.testing.assert_allclose(loss.backward(), _fd(lambda: float(loss(x, y)), x), rtol=1e-6, atol=1e-9)


def test_loss_argument_errors():
    ce = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="integer"):
        ce(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="outside"):
        ce(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="target has shape"):
        ce(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="shape"):
        nn.MSELoss()(np.zeros(3), np.zeros(4))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.MSELoss().backward()
