"""Module mechanics: registration, traversal, zero_grad, train/eval, state_dict,
.npz save/load, seeded init."""

import math
from collections import OrderedDict

import numpy as np
import pytest

from convbp import nn


def _net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16, 3))


def test_parameters_are_registered_in_order_with_pytorch_names():
    m = _net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["0.weight", "0.bias", "4.weight", "4.bias"]
    assert [p.shape for p in m.parameters()] == [(4, 1, 3, 3), (4,), (3, 16), (3,)]
    assert len(m) == 5 and isinstance(m[4], nn.Linear) and isinstance(m[1:3], nn.Sequential)
    assert len(list(m.modules())) == 6 and len(list(m.children())) == 5
    assert [n for n, _ in nn.Linear(2, 2, bias=False).named_parameters()] == ["weight"]


def test_custom_module_and_shared_parameter_listed_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.again = self.lin            # the same layer used twice

        def forward(self, x):
            return self.again(self.lin(x))

    m = Twice()
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    with pytest.raises(TypeError, match="Parameter/Module"):
        m.lin = 3


def test_zero_grad_train_eval():
    m = _net()
    x = np.ones((2, 1, 4, 4), np.float32)
    m.backward(np.ones_like(m(x)))
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.eval()
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())


def test_state_dict_roundtrip_and_npz(tmp_path):
    nn.init.manual_seed(0)
    a = _net()
    nn.init.manual_seed(1)
    b = _net()
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    assert not np.allclose(a(x), b(x))
    sd = a.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == [n for n, _ in a.named_parameters()]
    sd["0.weight"][...] = 7                  # a copy: the model is untouched
    assert not (a[0].weight.data == 7).any()
    a.save(tmp_path / "a.npz")
    w_before = b[0].weight.data
    b.load(tmp_path / "a.npz")
    assert b[0].weight.data is w_before      # loaded in place
    np.testing.assert_array_equal(a(x), b(x))
    c = _net().double()
    c.load_state_dict(a.state_dict())        # float32 values into float64 parameters
    assert c[0].weight.dtype == np.float64
    np.testing.assert_allclose(c(x.astype(np.float64)), a(x), rtol=1e-5, atol=1e-6)


def test_load_state_dict_checks_names_and_shapes():
    m = _net()
    sd = m.state_dict()
    del sd["4.bias"]
    with pytest.raises(KeyError, match="4.bias"):
        m.load_state_dict(sd)
    assert m.load_state_dict(sd, strict=False) == (["4.bias"], [])
    sd = m.state_dict()
    sd["4.weight"] = np.zeros((3, 15))
    with pytest.raises(ValueError, match="4.weight"):
        m.load_state_dict(sd)


def test_seeded_init_is_reproducible_and_pytorch_shaped():
    nn.init.manual_seed(5)
    a = nn.Conv2d(6, 8, 3, groups=2)
    nn.init.manual_seed(5)
    b = nn.Conv2d(6, 8, 3, groups=2)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / math.sqrt(3 * 9)            # fan_in = C/groups * R * S
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.bias.data).max() <= bound
    assert np.abs(a.weight.data).max() > 0.8 * bound
    w = nn.Parameter(np.empty((200, 300), np.float64))
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=0)
    assert abs(w.data.std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    nn.init.xavier_uniform_(w, generator=np.random.default_rng(1))
    assert np.abs(w.data).max() <= math.sqrt(6 / 500)
    assert abs(w.data.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    nn.init.xavier_normal_(w, gain=2.0, generator=2)
    assert abs(w.data.std() - 2 * math.sqrt(2 / 500)) < 0.02 * 2 * math.sqrt(2 / 500)
    a.reset_parameters(generator=3)
    b.reset_parameters(generator=3)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)


def test_init_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for nl, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("leaky_relu", None),
                      ("sigmoid", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))


@pytest.mark.parametrize("saved_as,loaded_as", [("m", "m"), ("m", "m.npz"), ("m.npz", "m.npz"),
                                                ("m.npz", "m")])
@pytest.mark.parametrize("as_path", [False, True], ids=["str", "Path"])
def test_load_takes_the_path_save_was_given(tmp_path, saved_as, loaded_as, as_path):
    """np.savez appends ".npz" to a path without it; load finds that file from the same path."""
    nn.init.manual_seed(0)
    a = _net()
    nn.init.manual_seed(1)
    b = _net()
    wrap = (lambda p: p) if as_path else str
    a.save(wrap(tmp_path / saved_as))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    b.load(wrap(tmp_path / loaded_as))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_load_prefers_the_exact_path_and_names_a_missing_one(tmp_path):
    nn.init.manual_seed(0)
    a = _net()
    a.save(tmp_path / "m")
    nn.init.manual_seed(1)
    other = _net()
    with open(tmp_path / "m", "wb") as f:     # a file named exactly "m" wins over "m.npz"
        np.savez(f, **other.state_dict())
    b = _net()
    b.load(tmp_path / "m")
    np.testing.assert_array_equal(b[0].weight.data, other[0].weight.data)
    with pytest.raises(FileNotFoundError, match="missing"):
        b.load(tmp_path / "missing")
