"""convbp: fast CPU convolution layers, forward and backward, from Python.

Functional API (NumPy arrays, NCHW, float32 or float64)::

    y  = convbp.conv2d(x, w, b, stride=1, padding="same")
    dx = convbp.conv2d_backward_input(dy, w, x.shape, padding="same")
    dw = convbp.conv2d_backward_weight(x, dy, w.shape, padding="same")
    db = convbp.conv2d_backward_bias(dy)

and the same for conv1d on (N, C, L) arrays. ``convbp.reference`` holds the float64
NumPy oracles; ``python -m convbp check`` compares the two.
"""

from ._version import __version__
from ._functional import (
    conv1d,
    conv1d_backward,
    conv1d_backward_bias,
    conv1d_backward_input,
    conv1d_backward_weight,
    conv2d,
    conv2d_backward,
    conv2d_backward_bias,
    conv2d_backward_input,
    conv2d_backward_weight,
)
from ._runtime import config, explain, get_num_threads, peak_gflops, set_num_threads, show_config

__all__ = [
    "__version__",
    "conv1d", "conv1d_backward", "conv1d_backward_bias", "conv1d_backward_input", "conv1d_backward_weight",
    "conv2d", "conv2d_backward", "conv2d_backward_bias", "conv2d_backward_input", "conv2d_backward_weight",
    "config", "explain", "get_num_threads", "peak_gflops", "set_num_threads", "show_config",
]


def __getattr__(name):
    # convbp.nn (layers) and convbp.optim (optimizers) load on first use, so that
    # `import convbp` stays as light as the functional API. convbp.torch is never
    # loaded from here: it imports torch, so it must be imported explicitly.
    if name in ("nn", "optim"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'convbp' has no attribute {name!r}")
