"""SGD and Adam: the seed 003 step, and trajectories equal to torch.optim's."""

import numpy as np
import pytest

from convbp import nn, optim


def test_plain_sgd_is_the_seed_003_update():
    p = nn.Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
    p.grad = np.array([[0.5, -1.0], [2.0, 0.0]])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, np.array([[1.0, 2.0], [3.0, 4.0]]) - 0.1 * np.array([[0.5, -1.0], [2.0, 0.0]]))


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=1e-2)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_trajectory_matches_torch_optim(name, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(6)]
    p = nn.Parameter(w0.copy())
    tp = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt, topt = getattr(optim, name)([p], **kw), getattr(torch.optim, name)([tp], **kw)
    for g in grads:
        opt.zero_grad()
        topt.zero_grad()
        p.grad = g.copy()
        tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_param_groups_skip_missing_grads_and_keep_dtype():
    a = nn.Parameter(np.ones(2, np.float32))
    b = nn.Parameter(np.ones(2, np.float32))
    opt = optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b]}], lr=0.5)
    a.grad = np.ones(2, np.float32)
    opt.step()                              # b has no grad: untouched
    np.testing.assert_array_equal(a.data, [0, 0])
    np.testing.assert_array_equal(b.data, [1, 1])
    assert a.data.dtype == np.float32
    b.grad = np.ones(2, np.float32)
    opt.step()
    np.testing.assert_array_equal(b.data, [0.5, 0.5])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_argument_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError, match="Parameter"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(1.0, 0.9))


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=np.float32(0.1), momentum=np.float64(0.9), dampening=np.float32(0.25),
                 weight_decay=np.int64(0))),
    ("Adam", dict(lr=np.float64(0.01), betas=(np.float32(0.8), np.float64(0.99)), eps=np.float32(1e-6),
                  weight_decay=np.float16(0.5))),
], ids=["SGD", "Adam"])
def test_numpy_scalar_hyperparameters_equal_python_numbers(name, kw):
    """Any real number is a hyper-parameter (NumPy scalars come from schedules and configs)."""
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(4)]
    plain = {k: (tuple(float(b) for b in v) if k == "betas" else float(v)) for k, v in kw.items()}
    p, q = nn.Parameter(w0.copy()), nn.Parameter(w0.copy())
    opt, ref = getattr(optim, name)([p], **kw), getattr(optim, name)([q], **plain)
    for g in grads:
        p.grad, q.grad = g.copy(), g.copy()
        opt.step()
        ref.step()
    np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-14)


def test_hyperparameter_and_betas_errors_are_clear():
    p = nn.Parameter(np.ones(2))
    for kw in (dict(lr=True), dict(lr="0.1"), dict(lr=np.float32(np.nan)), dict(momentum=-np.float64(0.5)),
               dict(weight_decay=None), dict(dampening="0")):
        with pytest.raises(ValueError, match=next(iter(kw))):
            optim.SGD([p], **{"lr": 0.1, **kw})
    for betas in (0.9, "ab", (0.9, "x"), [None, 0.9], (True, 0.9)):
        with pytest.raises(TypeError, match=r"betas must be a pair \(beta1, beta2\) of numbers in \[0, 1\)"):
            optim.Adam([p], betas=betas)
    for betas in ((0.9,), (0.9, 0.99, 0.999), (-0.1, 0.9), (0.9, 1.0), (np.nan, 0.9)):
        with pytest.raises(ValueError, match=r"betas must be a pair \(beta1, beta2\) of numbers in \[0, 1\)"):
            optim.Adam([p], betas=betas)
    assert optim.Adam([p], betas=[np.float32(0.5), 0]).defaults["betas"] == (0.5, 0)
