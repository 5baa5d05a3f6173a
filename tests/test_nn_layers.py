"""Every convbp.nn layer: backward against central finite differences (float64) and
forward/backward against PyTorch (float32 and float64, same weights)."""

import numpy as np
import pytest

from convbp import nn

# (id, convbp layer factory, torch layer factory (gets torch.nn), input shape)
LAYERS = [
    ("conv2d", lambda: nn.Conv2d(3, 4, 3), lambda t: t.Conv2d(3, 4, 3), (2, 3, 6, 5)),
    ("conv2d-all-args", lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
     lambda t: t.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2), (2, 4, 7, 6)),
    ("conv2d-nobias-same", lambda: nn.Conv2d(2, 3, (3, 4), padding="same", bias=False),
     lambda t: t.Conv2d(2, 3, (3, 4), padding="same", bias=False), (1, 2, 5, 6)),
    ("conv2d-depthwise", lambda: nn.Conv2d(3, 6, 3, groups=3, stride=2),
     lambda t: t.Conv2d(3, 6, 3, groups=3, stride=2), (2, 3, 7, 7)),
    ("conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2),
     lambda t: t.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2), (2, 3, 9)),
    ("conv1d-groups", lambda: nn.Conv1d(4, 2, 2, groups=2, bias=False),
     lambda t: t.Conv1d(4, 2, 2, groups=2, bias=False), (3, 4, 6)),
    ("linear", lambda: nn.Linear(5, 3), lambda t: t.Linear(5, 3), (4, 5)),
    ("linear-3d-nobias", lambda: nn.Linear(5, 3, bias=False), lambda t: t.Linear(5, 3, bias=False), (2, 3, 5)),
    ("relu", nn.ReLU, lambda t: t.ReLU(), (3, 4, 5)),
    ("leaky-relu", lambda: nn.LeakyReLU(0.2), lambda t: t.LeakyReLU(0.2), (3, 4, 5)),
    ("sigmoid", nn.Sigmoid, lambda t: t.Sigmoid(), (3, 4, 5)),
    ("tanh", nn.Tanh, lambda t: t.Tanh(), (3, 4, 5)),
    ("maxpool2d", lambda: nn.MaxPool2d(2), lambda t: t.MaxPool2d(2), (2, 3, 6, 5)),
    ("maxpool2d-overlap-pad", lambda: nn.MaxPool2d(3, stride=2, padding=1),
     lambda t: t.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    ("maxpool2d-ceil", lambda: nn.MaxPool2d(2, ceil_mode=True), lambda t: t.MaxPool2d(2, ceil_mode=True),
     (1, 2, 5, 7)),
    ("maxpool2d-dilation", lambda: nn.MaxPool2d((2, 3), stride=(1, 2), dilation=2),
     lambda t: t.MaxPool2d((2, 3), stride=(1, 2), dilation=2), (1, 2, 6, 9)),
    ("maxpool1d", lambda: nn.MaxPool1d(3, stride=2, padding=1), lambda t: t.MaxPool1d(3, stride=2, padding=1),
     (2, 3, 8)),
    ("avgpool2d", lambda: nn.AvgPool2d(2), lambda t: t.AvgPool2d(2), (2, 3, 6, 5)),
    ("avgpool2d-pad", lambda: nn.AvgPool2d(3, stride=2, padding=1),
     lambda t: t.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    ("avgpool2d-exclude-pad-ceil", lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                        count_include_pad=False),
     lambda t: t.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 8)),
    ("avgpool2d-divisor", lambda: nn.AvgPool2d((2, 3), stride=1, divisor_override=4),
     lambda t: t.AvgPool2d((2, 3), stride=1, divisor_override=4), (1, 2, 4, 5)),
    ("avgpool1d", lambda: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True),
     lambda t: t.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8)),
    ("flatten", nn.Flatten, lambda t: t.Flatten(), (2, 3, 4, 2)),
    ("sequential", lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                                         nn.Linear(12, 4), nn.Sigmoid()),
     lambda t: t.Sequential(t.Conv2d(2, 3, 3, padding=1), t.Tanh(), t.AvgPool2d(2), t.Flatten(),
                            t.Linear(12, 4), t.Sigmoid()), (2, 2, 4, 4)),
]
IDS = [c[0] for c in LAYERS]


def _make(factory, dtype, seed=0):
    nn.init.manual_seed(seed)
    return factory().to(dtype)


def _numeric_grad(f, a: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of a (in place)."""
    g = np.zeros_like(a)
    flat, gflat = a.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return g


@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_backward_matches_finite_differences(case):
    _, factory, _, shape = case
    rng = np.random.default_rng(1)
    m = _make(factory, np.float64)
    x = rng.standard_normal(shape)
    y = m(x)
    G = rng.standard_normal(y.shape)          # L = sum(G * m(x)), so dL/dy = G
    m.zero_grad()
    dx = m.backward(G)
    assert dx.shape == x.shape and dx.dtype == np.float64
    loss = lambda: float(np.sum(G * m(x)))  # noqa: E731
    np.testing.assert_allclose(dx, _numeric_grad(loss, x, 1e-6), rtol=1e-6, atol=1e-7)
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        np.testing.assert_allclose(p.grad, _numeric_grad(loss, p.data, 1e-6), rtol=1e-6, atol=1e-7,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_matches_pytorch(case, dtype):
    torch = pytest.importorskip("torch")
    _, factory, tfactory, shape = case
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    rng = np.random.default_rng(2)
    m = _make(factory, dtype)
    tm = tfactory(torch.nn).to(tdtype)
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    x = rng.standard_normal(shape).astype(dtype)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y = m(x)
    yt = tm(xt)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y, yt.detach().numpy(), **tol)
    G = rng.standard_normal(y.shape).astype(dtype)
    m.zero_grad()
    dx = m.backward(G)
    yt.backward(torch.from_numpy(G))
    assert dx.dtype == dtype
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tol)
    tparams = dict(tm.named_parameters())
    assert set(tparams) == {n for n, _ in m.named_parameters()}
    for name, p in m.named_parameters():
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), err_msg=name, **tol)


def test_conv2d_layer_takes_every_conv2d_padding_form():
    """Forms PyTorch's Conv2d lacks (4-tuple, "same" with stride 2, "full") go straight to
    convbp.conv2d; finite differences check the backward."""
    rng = np.random.default_rng(3)
    for padding, stride in [((0, 2, 1, 0), 1), ("same", 2), ("full", 1), ("same_lower", 2), ("valid", 1)]:
        m = _make(lambda: nn.Conv2d(2, 3, 3, stride=stride, padding=padding), np.float64)
        x = rng.standard_normal((1, 2, 5, 4))
        y = m(x)
        G = rng.standard_normal(y.shape)
        dx = m.backward(G)
        loss = lambda: float(np.sum(G * m(x)))  # noqa: E731
        np.testing.assert_allclose(dx, _numeric_grad(loss, x, 1e-6), rtol=1e-6, atol=1e-7, err_msg=str(padding))
        np.testing.assert_allclose(m.weight.grad, _numeric_grad(loss, m.weight.data, 1e-6), rtol=1e-6, atol=1e-7)


def test_gradients_accumulate_and_frozen_parameters_stay_none():
    rng = np.random.default_rng(4)
    m = _make(lambda: nn.Conv2d(2, 3, 3), np.float64)
    x = rng.standard_normal((2, 2, 5, 5))
    G = rng.standard_normal((2, 3, 3, 3))
    m(x)
    m.backward(G)
    once = m.weight.grad.copy()
    m(x)
    m.backward(G)
    np.testing.assert_allclose(m.weight.grad, 2 * once, rtol=1e-14)
    m.zero_grad()
    m.weight.requires_grad = False
    m(x)
    m.backward(G)
    assert m.weight.grad is None and m.bias.grad is not None


def test_parameter_dtype_is_kept_and_inputs_are_never_cast():
    conv = nn.Conv2d(1, 2, 3)
    lin = nn.Linear(4, 2)
    assert conv.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    with pytest.raises(TypeError, match="dtype"):
        conv(np.zeros((1, 1, 4, 4)))            # float64 input, float32 layer
    with pytest.raises(TypeError, match="dtype"):
        lin(np.zeros((3, 4)))
    assert nn.Conv2d(1, 2, 3, dtype=np.float64)(np.zeros((1, 1, 4, 4))).dtype == np.float64
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Linear(2, 2, dtype=np.int32)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv1d(3, 4, (3, 3))
    with pytest.raises(ValueError, match="padding"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="4-D"):
        nn.MaxPool2d(2)(np.zeros((3, 4, 4), np.float32))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match=r"\(\*, 5\)"):
        nn.Linear(5, 3)(np.zeros((2, 4), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.ReLU().backward(np.zeros(3))


def test_nan_propagates_like_pytorch():
    x = np.array([[np.nan, -1.0, 2.0, 0.5]], np.float32)
    for layer in (nn.ReLU(), nn.LeakyReLU(), nn.Sigmoid(), nn.Tanh()):
        y = layer(x)
        assert np.isnan(y[0, 0]) and not np.isnan(y[0, 1:]).any(), type(layer).__name__
    y = nn.MaxPool1d(2)(x[None])
    assert np.isnan(y[0, 0, 0]) and y[0, 0, 1] == 2.0


def test_modules_deepcopy_and_pickle():
    import copy
    import pickle
    nn.init.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        np.testing.assert_array_equal(clone(x), m(x))
        assert clone[0].weight is not m[0].weight
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in m.named_parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_ties_nan_inf_and_empty_batch_match_pytorch(dtype):
    """Which element of a window gets the gradient: ties (the first in row-major order),
    NaN (always maximal, PyTorch takes the last one), all -inf windows; and batch 0."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 3, 7, 7)).astype(dtype)      # many ties
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = x[1, 2, 0, 0] = np.nan
    x[1, 1, :3, :3] = -np.inf
    g = rng.standard_normal((2, 3, 4, 4)).astype(dtype)
    for args in [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=2, ceil_mode=True)]:
        m, tm = nn.MaxPool2d(**args), torch.nn.MaxPool2d(**args)
        tx = torch.from_numpy(x.copy()).requires_grad_()
        ty = tm(tx)
        ty.backward(torch.from_numpy(g[:, :, :ty.shape[2], :ty.shape[3]].copy()))
        y = m(x)
        np.testing.assert_array_equal(y, ty.detach().numpy())
        np.testing.assert_array_equal(m.backward(g[:, :, :y.shape[2], :y.shape[3]]), tx.grad.numpy())
    m = nn.MaxPool2d(2)
    assert m(np.zeros((0, 3, 4, 4), dtype)).shape == (0, 3, 2, 2)
    assert m.backward(np.zeros((0, 3, 2, 2), dtype)).shape == (0, 3, 4, 4)


def test_pool_kernels_check_their_arguments():
    from convbp import _core
    x = np.zeros((1, 1, 4, 4), np.float32)
    y, idx = _core.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    with pytest.raises(ValueError, match="indices"):
        _core.max_pool2d_backward(y, idx.astype(np.int32), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="index 16 outside"):
        _core.max_pool2d_backward(y, np.full_like(idx, 16), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="kernel, stride and dilation"):
        _core.max_pool2d(x, (0, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    with pytest.raises(ValueError, match="x must be a C-contiguous"):
        _core.avg_pool2d(x[:, :, :, ::2], (2, 2), (2, 2), (0, 0), (2, 1), True, 0)
    with pytest.raises(ValueError, match="x must be a 4-D array"):
        _core.avg_pool2d(x[0], (2, 2), (2, 2), (0, 0), (2, 2), True, 0)


def test_input_grad_false_skips_grad_input_only():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    a, b = _make(lambda: nn.Conv2d(3, 4, 3), np.float32), _make(lambda: nn.Conv2d(3, 4, 3), np.float32)
    b.input_grad = False
    g = np.ones((2, 4, 4, 4), np.float32)
    a(x), b(x)
    assert a.backward(g).shape == x.shape and b.backward(g) is None
    np.testing.assert_array_equal(a.weight.grad, b.weight.grad)
    np.testing.assert_array_equal(a.bias.grad, b.bias.grad)
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    seq[2].input_grad = False
    seq(x)
    with pytest.raises(RuntimeError, match="layer '2' .*input_grad=False"):
        seq.backward(np.ones((2, 2, 2, 2), np.float32))


# A layer used at several positions of a Sequential, directly or inside a reused
# sub-Sequential. Each factory gets the namespace (convbp.nn or torch.nn) and builds
# the same network with it, so the two share structure and parameter names.
def _reuse_linear(M):
    lin = M.Linear(2, 2, bias=False)
    return M.Sequential(lin, lin)


def _reuse_conv_same(M):
    a = M.Conv2d(3, 3, 3, padding=1)
    return M.Sequential(a, M.ReLU(), a)


def _reuse_conv_shrinking(M):           # the second use sees a smaller input
    a = M.Conv2d(3, 3, 3)
    return M.Sequential(a, M.Tanh(), a, M.MaxPool2d(2))


def _reuse_nested(M):
    inner = M.Sequential(M.Conv2d(2, 2, 3, padding=1), M.Tanh())
    return M.Sequential(inner, M.ReLU(), inner, M.Sequential(inner, M.AvgPool2d(2), M.Flatten()),
                        M.Linear(8, 3))


REUSE = [("linear-twice", _reuse_linear, (1, 2)), ("conv-relu-conv", _reuse_conv_same, (2, 3, 5, 4)),
         ("conv-shrinking", _reuse_conv_shrinking, (2, 3, 9, 8)), ("nested", _reuse_nested, (2, 2, 4, 4))]


@pytest.mark.parametrize("case", REUSE, ids=[c[0] for c in REUSE])
def test_module_reused_in_sequential_matches_pytorch(case):
    """Each position's backward sees what that position's forward cached, not the last
    forward of the shared module: gradients of input, weights and biases as PyTorch's."""
    torch = pytest.importorskip("torch")
    _, build, shape = case
    nn.init.manual_seed(0)
    m = build(nn).double()
    tm = build(torch.nn).double()
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in tm.named_parameters()]
    with torch.no_grad():
        for (_, p), tp in zip(m.named_parameters(), tm.parameters()):
            tp.copy_(torch.from_numpy(p.data))
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y, yt = m(x), tm(xt)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    G = rng.standard_normal(y.shape)
    dx = m.backward(G)
    yt.backward(torch.from_numpy(G))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    for (name, p), tp in zip(m.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12, atol=1e-13, err_msg=name)


def test_sequential_backward_needs_its_own_forward():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(RuntimeError, match="Sequential.backward called before forward"):
        seq.backward(np.ones((1, 2), np.float32))
    y = seq(np.ones((1, 2), np.float32))
    seq.append(nn.Tanh())
    with pytest.raises(RuntimeError, match="forward ran 2 modules .* now holds 3"):
        seq.backward(np.ones_like(y))


def _wrong_shapes(shape):
    """Shapes other than ``shape``: the same element count in another arrangement, and
    shapes that broadcast against it."""
    size = int(np.prod(shape))
    cands = [shape[::-1], (size,), shape + (1,), (1,) + shape, shape[1:], (shape[-1],)]
    return [s for s in dict.fromkeys(cands) if s != shape]


@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_backward_refuses_a_grad_output_of_another_shape_or_dtype(case):
    """grad_output must be exactly what forward returned in shape and dtype: never
    reshaped, broadcast or cast (the result would be silently wrong or change dtype)."""
    _, factory, _, shape = case
    m = _make(factory, np.float32)
    x = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    y = m(x)
    for bad in _wrong_shapes(y.shape):
        with pytest.raises(ValueError, match="grad_output") as e:
            m.backward(np.ones(bad, np.float32))
        assert str(tuple(bad)) in str(e.value) and str(y.shape) in str(e.value), str(e.value)
    with pytest.raises(TypeError, match="grad_output has dtype float64"):
        m.backward(np.ones(y.shape, np.float64))
    with pytest.raises(TypeError, match="grad_output"):
        m.backward(np.ones(y.shape, np.int32))
    assert all(p.grad is None for p in m.parameters())     # nothing accumulated by a refused call
    dx = m.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == np.float32


def test_pool_backward_shape_and_dtype_from_the_review():
    for pool in (nn.MaxPool2d(2), nn.AvgPool2d(2)):
        pool(np.ones((1, 1, 4, 8), np.float32))
        with pytest.raises(ValueError, match=r"grad_output has shape \(1, 1, 4, 2\) .* \(1, 1, 2, 4\)"):
            pool.backward(np.ones((1, 1, 4, 2), np.float32))
        with pytest.raises(TypeError, match="dtype float64 .* float32"):
            pool.backward(np.ones((1, 1, 2, 4), np.float64))
    lin = nn.Linear(4, 3)
    lin(np.ones((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(5, 2, 3\) .* \(2, 5, 3\)"):
        lin.backward(np.ones((5, 2, 3), np.float32))
    relu = nn.ReLU()
    relu(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(3,\) .* \(2, 3\)"):
        relu.backward(np.ones(3, np.float32))


@pytest.mark.parametrize("loss", [nn.MSELoss(reduction="none"), nn.CrossEntropyLoss(reduction="none")],
                         ids=["mse", "cross-entropy"])
def test_unreduced_loss_backward_takes_a_scalar_or_the_loss_shape(loss):
    x = np.random.default_rng(7).standard_normal((2, 3)).astype(np.float32)
    target = np.zeros((2, 3), np.float32) if isinstance(loss, nn.MSELoss) else np.array([0, 2])
    value = loss(x, target)
    np.testing.assert_array_equal(loss.backward(), loss.backward(np.ones(value.shape, np.float32)))
    for bad in [s for s in _wrong_shapes(value.shape) if s != ()]:
        with pytest.raises(ValueError, match="grad_output has shape"):
            loss.backward(np.ones(bad, np.float32))


def test_layers_take_byte_swapped_input_and_any_weight_layout_as_conv_does():
    """Byte-swapped float32 input works in every layer as in convbp.conv2d (converted to
    native order); a Linear weight assigned in Fortran order or byte-swapped works too
    (it reached the GEMM binding and failed with its internal message)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.ReLU(), nn.Conv2d(3, 4, 3)):
        np.testing.assert_array_equal(layer(x.astype(">f4")), layer(x), err_msg=type(layer).__name__)
    lin = nn.Linear(3, 2)
    v = rng.standard_normal((5, 3)).astype(np.float32)
    want = lin(v)
    np.testing.assert_array_equal(lin(v.astype(">f4")), want)
    w = lin.weight.data.copy()
    for data in (np.asfortranarray(w), w.astype(">f4")):
        lin.weight.data = data
        np.testing.assert_array_equal(lin(v), want)
        np.testing.assert_allclose(lin.backward(np.ones((5, 2), np.float32)), np.ones((5, 2)) @ w, rtol=1e-6)
