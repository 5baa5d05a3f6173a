"""convbp.torch: autograd Functions (gradcheck in float64, PyTorch agreement in
float32), zero-copy hand-over, drop-in modules and patch()."""

import copy
import os
import subprocess
import sys

import pytest

import convbp

# Subprocesses import the convbp this test imported (the source tree in a dev build,
# site-packages after pip install), not whatever the source tree holds.
CONVBP_PATH = os.path.dirname(os.path.dirname(os.path.abspath(convbp.__file__)))


def _run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=CONVBP_PATH + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=CONVBP_PATH)   # "-c" puts the cwd first on sys.path


def test_import_convbp_never_imports_torch():
    r = _run_python("import sys, convbp, convbp.nn, convbp.optim; convbp.nn.Conv2d(1, 1, 1); "
                    "print('torch' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_bridge_without_torch_is_a_clean_import_error():
    r = _run_python("import sys; sys.modules['torch'] = None\n"
                    "try:\n    import convbp.torch\nexcept ImportError as e:\n    print('ImportError:', e)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ImportError:") and "torch" in r.stdout


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def ct(torch):
    import convbp.torch as ct
    return ct


# (conv dims, x shape, weight shape, bias?, conv kwargs)
CASES = [
    (2, (2, 3, 6, 5), (4, 3, 3, 3), True, dict()),
    (2, (1, 4, 7, 6), (6, 2, 3, 2), True, dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    (2, (2, 2, 5, 5), (3, 2, 2, 3), False, dict(padding="same")),
    (2, (1, 3, 6, 6), (3, 1, 3, 3), True, dict(stride=2, groups=3)),
    (1, (2, 3, 9), (4, 3, 3), True, dict(stride=2, padding=1, dilation=2)),
    (1, (2, 4, 7), (2, 2, 2), False, dict(groups=2, padding="valid")),
]
IDS = [f"conv{c[0]}d-{i}" for i, c in enumerate(CASES)]


def _tensors(torch, case, dtype, seed=0):
    _, xs, ws, has_b, _ = case
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(xs, generator=g, dtype=dtype, requires_grad=True)
    w = torch.randn(ws, generator=g, dtype=dtype, requires_grad=True)
    b = torch.randn(ws[0], generator=g, dtype=dtype, requires_grad=True) if has_b else None
    return x, w, b


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck_float64(torch, ct, case):
    nd, *_, kw = case
    fn = ct.conv2d if nd == 2 else ct.conv1d
    x, w, b = _tensors(torch, case, torch.float64)
    inputs = (x, w) if b is None else (x, w, b)
    assert torch.autograd.gradcheck(lambda *a: fn(*a, **kw), inputs, eps=1e-6, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch_functional_float32(torch, ct, case):
    nd, *_, kw = case
    ours, theirs = (ct.conv2d, torch.nn.functional.conv2d) if nd == 2 else (ct.conv1d, torch.nn.functional.conv1d)
    x, w, b = _tensors(torch, case, torch.float32, seed=1)
    y = ours(x, w, b, **kw)
    x2, w2 = x.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True)
    b2 = None if b is None else b.detach().clone().requires_grad_(True)
    y2 = theirs(x2, w2, b2, **kw)
    assert y.dtype == torch.float32 and y.shape == y2.shape
    torch.testing.assert_close(y, y2, rtol=2e-5, atol=2e-5)
    gy = torch.randn_like(y)
    y.backward(gy)
    y2.backward(gy)
    torch.testing.assert_close(x.grad, x2.grad, rtol=2e-5, atol=2e-5)
    torch.testing.assert_close(w.grad, w2.grad, rtol=2e-5, atol=2e-5)
    if b is not None:
        torch.testing.assert_close(b.grad, b2.grad, rtol=2e-5, atol=2e-5)


def test_tensors_are_handed_over_without_copies(torch, ct, monkeypatch):
    """convbp receives NumPy views of the tensors' own memory, and the output tensor
    is a view of the array convbp returned."""
    import convbp._functional as F
    seen = {}
    real_fwd, real_bwd = F.conv2d, F.conv2d_backward

    def spy_fwd(x, w, b, **kw):
        seen["x"], seen["w"] = x.ctypes.data, w.ctypes.data
        seen["y"] = real_fwd(x, w, b, **kw)
        return seen["y"]

    def spy_bwd(x, w, dy, **kw):
        seen["dy"] = dy.ctypes.data
        seen["g"] = real_bwd(x, w, dy, **kw)
        return seen["g"]

    monkeypatch.setattr(F, "conv2d", spy_fwd)
    monkeypatch.setattr(F, "conv2d_backward", spy_bwd)
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    y = ct.conv2d(x, w)
    assert seen["x"] == x.data_ptr() and seen["w"] == w.data_ptr()
    assert y.data_ptr() == seen["y"].ctypes.data
    x.register_hook(lambda g: seen.update(gx=g.data_ptr()))   # the gradient autograd received
    gy = torch.randn_like(y)
    y.backward(gy)
    assert seen["dy"] == gy.data_ptr()
    assert seen["gx"] == seen["g"][0].ctypes.data
    assert seen["g"][2] is None            # no bias: not computed


def test_only_needed_gradients_are_computed(torch, ct, monkeypatch):
    import convbp._functional as F
    needs = []
    real = F.conv2d_backward
    def spy(*a, need, **kw):
        needs.append(tuple(need))
        return real(*a, need=need, **kw)

    monkeypatch.setattr(F, "conv2d_backward", spy)
    x = torch.randn(1, 2, 4, 4)                           # no grad wanted for x
    w = torch.randn(3, 2, 3, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=False)
    ct.conv2d(x, w, b).sum().backward()
    assert needs == [("weight",)]


def test_noncontiguous_inputs(torch, ct):
    x = torch.randn(2, 3, 6, 6).to(memory_format=torch.channels_last).requires_grad_(True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    y = ct.conv2d(x, w, padding=1)
    y.sum().backward()      # grad_output of sum() is an expanded (stride 0) tensor
    x2, w2 = x.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True)
    torch.nn.functional.conv2d(x2, w2, padding=1).sum().backward()
    torch.testing.assert_close(y, torch.nn.functional.conv2d(x2, w2, padding=1))
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(w.grad, w2.grad)


def test_bad_tensors_are_refused(torch, ct):
    w = torch.randn(2, 1, 3, 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        ct.conv2d(torch.randn(1, 1, 4, 4).half(), w.half())
    with pytest.raises(ValueError, match="CPU"):
        ct.conv2d(torch.empty(1, 1, 4, 4, device="meta"), w)
    with pytest.raises(TypeError, match="dtype"):
        ct.conv2d(torch.randn(1, 1, 4, 4, dtype=torch.float64), w)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        ct.patch("model")


def test_dropin_modules_are_torch_modules(torch, ct):
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    torch.manual_seed(0)
    ours = ct.Conv2d(3, 5, 3, stride=2, padding=1)
    assert isinstance(ours, torch.nn.Conv2d)
    torch.testing.assert_close(ours.weight, ref.weight, rtol=0, atol=0)     # same init
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 7, 7)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-5)
    c1 = ct.Conv1d(2, 3, 3, padding=2, padding_mode="circular", algo="naive")
    r1 = torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular")
    r1.load_state_dict(c1.state_dict())
    x1 = torch.randn(2, 2, 6)
    torch.testing.assert_close(c1(x1), r1(x1), rtol=1e-5, atol=1e-5)


def test_patch_swaps_every_conv_and_keeps_weights(torch, ct):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect", groups=2), torch.nn.Tanh(),
        torch.nn.Flatten(2),                                # (N, 4, 36): a 1-d signal per channel
        torch.nn.Conv1d(4, 3, 5, stride=2, dilation=2, bias=False),
        torch.nn.Flatten(), torch.nn.Linear(3 * 14, 2))
    ref = copy.deepcopy(model)
    params_before = [id(p) for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)   # made before patching: still valid after
    assert ct.patch(model) is model
    assert [type(m).__name__ for m in model if "Conv" in type(m).__name__] == ["Conv2d", "Conv2d", "Conv1d"]
    assert all(type(m).__module__ == "convbp.torch" for m in model if "Conv" in type(m).__name__)
    assert [id(p) for p in model.parameters()] == params_before
    x = torch.randn(3, 2, 6, 6)
    y, y_ref = model(x), ref(x)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    y.square().sum().backward()
    y_ref.square().sum().backward()
    for (n, p), p_ref in zip(model.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-4, atol=1e-5, msg=n)
    w0 = model[0].weight.detach().clone()
    opt.step()
    assert not torch.equal(model[0].weight, w0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unbatched_input_matches_torch_functional(torch, ct, case):
    """torch.nn.functional.conv1d/conv2d take an input without the batch dimension
    ((C, L) / (C, H, W)); so do convbp's, forward and backward."""
    nd, *_, kw = case
    ours, theirs = (ct.conv2d, torch.nn.functional.conv2d) if nd == 2 else (ct.conv1d, torch.nn.functional.conv1d)
    x, w, b = _tensors(torch, case, torch.float64, seed=2)
    x = x.detach()[0].clone().requires_grad_(True)          # drop the batch dimension
    x2, w2 = x.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True)
    b2 = None if b is None else b.detach().clone().requires_grad_(True)
    y, y2 = ours(x, w, b, **kw), theirs(x2, w2, b2, **kw)
    assert y.shape == y2.shape and y.dim() == nd + 1
    torch.testing.assert_close(y, y2, rtol=1e-12, atol=1e-12)
    gy = torch.randn_like(y)
    y.backward(gy)
    y2.backward(gy)
    for ours_g, theirs_g in [(x.grad, x2.grad), (w.grad, w2.grad)] + ([] if b is None else [(b.grad, b2.grad)]):
        torch.testing.assert_close(ours_g, theirs_g, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda *a: ours(*a, **kw), (x, w) if b is None else (x, w, b),
                                    eps=1e-6, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "circular"])
def test_unbatched_input_through_dropin_modules_and_patch(torch, ct, padding_mode):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode=padding_mode), torch.nn.Tanh(),
                                torch.nn.Flatten(1),            # (3, H*W) for an unbatched (2, H, W) input
                                torch.nn.Conv1d(3, 2, 3, padding=2, padding_mode=padding_mode))
    ref = copy.deepcopy(model)
    ct.patch(model)
    for x in (torch.randn(2, 5, 4, dtype=torch.float32), torch.randn(4, 2, 5, 4, dtype=torch.float32)):
        if x.dim() == 4:                                        # batched: Flatten(1) would merge differently
            model[2].start_dim = ref[2].start_dim = 2
        y, y_ref = model(x), ref(x)
        assert y.shape == y_ref.shape
        torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
        y.square().sum().backward()
        y_ref.square().sum().backward()
        for (n, p), p_ref in zip(model.named_parameters(), ref.parameters()):
            torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-4, atol=1e-5, msg=n)
        model.zero_grad()
        ref.zero_grad()


def test_input_of_another_rank_is_named(torch, ct):
    with pytest.raises(ValueError, match=r"conv2d: input must be 3-D \(unbatched\) or 4-D"):
        ct.conv2d(torch.randn(1, 1, 1, 4, 4), torch.randn(2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv1d: input must be 2-D \(unbatched\) or 3-D .* got shape \(4,\)"):
        ct.Conv1d(1, 1, 1)(torch.randn(4))
