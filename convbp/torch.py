"""PyTorch bridge: convbp's convolution kernels inside torch.autograd.

- ``conv1d`` / ``conv2d``: functions with ``torch.nn.functional``'s signature (plus
  ``algo``) whose forward and backward run convbp on CPU float32/float64 tensors.
  Tensors are handed to convbp as NumPy views (``Tensor.numpy()``: no copy for a
  contiguous tensor; convbp makes the one contiguous copy it needs otherwise) and
  results come back with ``torch.from_numpy`` (no copy).
- ``Conv1d`` / ``Conv2d``: drop-in subclasses of ``torch.nn.Conv1d`` / ``Conv2d``
  (same arguments, parameters, state_dict and init) running convbp.
- ``patch(model)``: turn every ``torch.nn.Conv1d`` / ``Conv2d`` in a model into the
  convbp one in place, keeping its Parameter objects (and so optimizers, hooks and
  DistributedDataParallel built on them).

Only the first derivative is provided (backward is ``once_differentiable``).
Importing this module imports torch; ``import convbp`` never does.
"""

from __future__ import annotations

try:
    import torch
    from torch.autograd.function import once_differentiable
except ImportError as e:  # pragma: no cover - exercised only without torch
    raise ImportError("convbp.torch needs PyTorch (`pip install torch`); the rest of convbp "
                      "works without it") from e

from . import _functional as _F

__all__ = ["conv1d", "conv2d", "Conv1d", "Conv2d", "patch"]

_DTYPES = (torch.float32, torch.float64)


def _numpy(t, name: str):
    """A NumPy view of a CPU float tensor (no copy), or a clear error."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"{name} is on device {t.device}; convbp runs on CPU tensors only")
    if t.dtype not in _DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {t.dtype}")
    if t.layout != torch.strided:
        raise TypeError(f"{name} must be a dense (strided) tensor, got layout {t.layout}")
    return t.detach().numpy()


class _ConvFunction(torch.autograd.Function):
    """y = conv(x, weight) + bias with convbp's forward; backward asks convbp only for
    the gradients autograd needs (``need=``)."""

    @staticmethod
    def forward(ctx, x, weight, bias, fns, conv_args):
        forward_fn, _ = fns
        b = None if bias is None else _numpy(bias, "bias")
        y = forward_fn(_numpy(x, "input"), _numpy(weight, "weight"), b, **conv_args)
        ctx.save_for_backward(x, weight)
        ctx.fns, ctx.conv_args, ctx.has_bias = fns, conv_args, bias is not None
        return torch.from_numpy(y)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        want_x, want_w, want_b = ctx.needs_input_grad[:3]
        need = [n for n, w in (("input", want_x), ("weight", want_w), ("bias", want_b and ctx.has_bias)) if w]
        if not need:
            return None, None, None, None, None
        gi, gw, gb = ctx.fns[1](_numpy(x, "input"), _numpy(weight, "weight"),
                                _numpy(grad_output, "grad_output"), need=need, **ctx.conv_args)
        wrap = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
        return wrap(gi), wrap(gw), wrap(gb), None, None


def _apply(input, weight, bias, fns, args, nd: int, name: str, layout: str):
    """_ConvFunction on a batched input; an unbatched one (no N dimension) is run as a
    batch of one and the output squeezed back, as torch does (autograd differentiates
    the unsqueeze and squeeze)."""
    if isinstance(input, torch.Tensor) and input.dim() not in (nd + 1, nd + 2):
        raise ValueError(f"{name}: input must be {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                         f"{layout}, got shape {tuple(input.shape)}")
    if isinstance(input, torch.Tensor) and input.dim() == nd + 1:
        return _ConvFunction.apply(input.unsqueeze(0), weight, bias, fns, args).squeeze(0)
    return _ConvFunction.apply(input, weight, bias, fns, args)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algo="auto"):
    """``torch.nn.functional.conv2d`` computed by convbp, differentiable.

    input (N, C, H, W) or unbatched (C, H, W), weight (K, C/groups, R, S), bias (K,) or
    None: CPU tensors of one dtype, float32 or float64. Returns (N, K, P, Q), or
    (K, P, Q) for an unbatched input. ``padding`` takes every form ``convbp.conv2d``
    does (ints, pairs, 4-tuples, "same" for any stride, "full", ...).
    """
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, algo=algo)
    return _apply(input, weight, bias, (_F.conv2d, _F.conv2d_backward), args, 2, "conv2d", "(N, C, H, W)")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algo="auto"):
    """``torch.nn.functional.conv1d`` computed by convbp, differentiable.

    input (N, C, L) or unbatched (C, L), weight (K, C/groups, S), bias (K,) or None ->
    (N, K, Lout), or (K, Lout) for an unbatched input.
    """
    if isinstance(padding, (tuple, list)) and len(padding) == 1:   # torch keeps (p,)
        padding = padding[0]
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, algo=algo)
    return _apply(input, weight, bias, (_F.conv1d, _F.conv1d_backward), args, 1, "conv1d", "(N, C, L)")


def _module_forward(m, x, fn, nd: int):
    """Module forward as torch's own: a non-"zeros" padding_mode pads with F.pad (torch
    differentiates that), then convbp runs the unpadded convolution. An unbatched input
    (no N dimension) is padded and convolved as a batch of one, then squeezed."""
    if isinstance(x, torch.Tensor) and x.dim() == nd + 1:
        return _module_forward(m, x.unsqueeze(0), fn, nd).squeeze(0)
    padding = m.padding
    if m.padding_mode != "zeros":
        x = torch.nn.functional.pad(x, m._reversed_padding_repeated_twice, mode=m.padding_mode)
        padding = 0
    return fn(x, m.weight, m.bias, m.stride, padding, m.dilation, m.groups, algo=getattr(m, "algo", "auto"))


class Conv2d(torch.nn.Conv2d):
    """``torch.nn.Conv2d`` (same arguments, parameters and init) whose forward and
    backward run convbp. Extra keyword: ``algo`` (a convbp route name, default "auto").
    x (N, C, H, W) -> (N, K, P, Q), or unbatched (C, H, W) -> (K, P, Q)."""

    def __init__(self, *args, algo: str = "auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.algo = algo

    def forward(self, input):
        return _module_forward(self, input, conv2d, 2)


class Conv1d(torch.nn.Conv1d):
    """``torch.nn.Conv1d`` whose forward and backward run convbp. x (N, C, L) -> (N, K, Lout),
    or unbatched (C, L) -> (K, Lout)."""

    def __init__(self, *args, algo: str = "auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.algo = algo

    def forward(self, input):
        return _module_forward(self, input, conv1d, 1)


_SWAP = {torch.nn.Conv2d: Conv2d, torch.nn.Conv1d: Conv1d}


def patch(model: torch.nn.Module) -> torch.nn.Module:
    """Make every ``torch.nn.Conv1d`` / ``torch.nn.Conv2d`` in ``model`` (``model``
    itself included) run convbp, in place, and return ``model``.

    The modules keep their identity, Parameter objects, buffers, hooks and
    padding_mode: only their class changes to the convbp subclass, so an optimizer
    or a DistributedDataParallel wrapper made before or after still sees the same
    parameters. Subclasses of the torch convolutions (other than convbp's) are left
    alone, since their forward may differ.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"patch expects a torch.nn.Module, got {type(model).__name__}")
    for m in model.modules():
        new = _SWAP.get(type(m))
        if new is not None:
            m.__class__ = new
    return model
