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


def _locate_core() -> None:
    """Make ``convbp._core`` importable when Python runs from a source checkout.

    ``python -m convbp ...`` started in the repository root imports this source
    tree (the current directory comes first on ``sys.path``), which holds no
    compiled ``_core`` unless it was built in place. If a ``convbp`` installed by
    pip is also on ``sys.path``, its compiled core is used instead of failing.
    """
    import os
    import sys

    def has_core(d):
        try:
            return any(f.startswith("_core.") and f.endswith((".so", ".pyd")) for f in os.listdir(d))
        except OSError:
            return False

    here = os.path.dirname(os.path.abspath(__file__))
    if has_core(here):
        return
    for entry in sys.path:
        cand = os.path.join(entry or os.getcwd(), "convbp")
        if os.path.realpath(cand) != os.path.realpath(here) and has_core(cand):
            __path__.append(cand)
            return


_locate_core()
try:
    from . import _core  # noqa: F401  (the compiled kernels; everything below needs them)
except ImportError as e:
    if "CONVBP_ISA" in str(e):  # the extension is there; the environment asks for an unknown ISA
        raise ImportError(f"convbp: {e}; unset CONVBP_ISA to use the best ISA of this CPU") from e
    raise ImportError(
        f"convbp's compiled extension convbp._core could not be imported ({e}). "
        "Install the package with `pip install .`, or build it in place for development "
        "(see 'Development' in the README)."
    ) from e
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
from ._runtime import (config, explain, get_num_threads, peak_gflops, release_workspace, set_num_threads,
                       show_config)

__all__ = [
    "__version__",
    "conv1d", "conv1d_backward", "conv1d_backward_bias", "conv1d_backward_input", "conv1d_backward_weight",
    "conv2d", "conv2d_backward", "conv2d_backward_bias", "conv2d_backward_input", "conv2d_backward_weight",
    "config", "explain", "get_num_threads", "peak_gflops", "release_workspace", "set_num_threads", "show_config",
]


def __getattr__(name):
    # convbp.nn (layers) and convbp.optim (optimizers) load on first use, so that
    # `import convbp` stays as light as the functional API. convbp.torch is never
    # loaded from here: it imports torch, so it must be imported explicitly.
    if name in ("nn", "optim"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'convbp' has no attribute {name!r}")
