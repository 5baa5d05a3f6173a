"""Threads, configuration and route explanation."""

from __future__ import annotations

import numbers

import numpy as np

from . import _args, _core
from ._functional import _1D, _2D
from ._version import __version__


def set_num_threads(n: int) -> None:
    """Set the number of OpenMP threads every convbp call uses (process-wide), 1 <= n <= 1024."""
    n = _args.as_int(n, "n")
    if not 1 <= n <= 1024:  # the C++ bound (kMaxThreads); checked here before the int conversion
        raise ValueError(f"set_num_threads: n={n} must be in [1, 1024]")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads convbp calls use (starts at OMP_NUM_THREADS or the core count)."""
    return _core.get_num_threads()


def release_workspace() -> int:
    """Free the scratch memory convbp keeps between calls; returns the bytes freed.

    Packed weights, rearranged inputs and per-thread tiles of 64 KiB and more go back to
    a process-wide cache when a call ends (at most 512 MiB), so the next call reuses them
    instead of mapping and faulting in fresh pages. The next call after a release simply
    allocates again.
    """
    return int(_core.release_workspace())


def config() -> dict:
    """Build and run-time facts as a dict (what ``show_config`` prints)."""
    return {
        "version": __version__,
        "compiler": _core.compiler(),
        "openmp": _core.openmp(),
        "isa": _core.active_isa(),
        "isa_detected": _core.detected_isa(),
        "threads": _core.get_num_threads(),
        "routes": ["auto"] + list(_core.route_names()),
        "numpy": np.__version__,
    }


def show_config() -> None:
    """Print convbp's version, compiler, OpenMP, ISA in use (and detected), threads and routes."""
    for k, v in config().items():
        print(f"{k:>13}: {v}")


def peak_gflops(threads: int = 1, seconds: float = 0.2) -> float:
    """Measured FP32 FMA throughput (GFLOP/s) of this machine on ``threads`` threads,
    with the ISA convbp uses: the denominator of "% of peak" in benchmarks."""
    threads = _args.as_int(threads, "threads")
    if not 1 <= threads <= 1024:  # the C++ bound (kMaxThreads)
        raise ValueError(f"peak_gflops: threads={threads} must be in [1, 1024]")
    if isinstance(seconds, (bool, np.bool_)) or not isinstance(seconds, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"peak_gflops: seconds must be a real number, got {type(seconds).__name__}")
    seconds = float(seconds)
    if not 0.0 < seconds <= 60.0:  # also refuses NaN and infinity, which would never finish calibrating
        raise ValueError(f"peak_gflops: seconds={seconds} must be in (0, 60]")
    return _core.peak_gflops(threads, seconds)


_PASSES = ("fwd", "bwd_data", "bwd_weight")


def explain(x_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1, *, pass_="fwd",
            dtype="float32", algo="auto") -> dict:
    """Which route and ISA a call would use, and why the routes before it refused.

    ``x_shape`` is (N, C, H, W) for conv2d or (N, C, L) for conv1d, ``weight_shape`` the
    matching weight shape; ``pass_`` one of "fwd", "bwd_data", "bwd_weight". Returns a dict
    with keys route, isa, reason and refused (a list of (route, why not)).
    """
    if pass_ not in _PASSES:
        raise ValueError(f"pass_={pass_!r} is not one of {_PASSES}")
    dtype = np.dtype(dtype).name
    try:  # any sequence of ints, as the backward functions take input_shape (tuple, list, ndarray, torch.Size)
        ndim = None if isinstance(x_shape, (str, bytes)) else len(x_shape)
    except TypeError:
        ndim = None
    if ndim not in (3, 4):
        raise ValueError(f"x_shape must be (N, C, H, W) or (N, C, L), got {x_shape!r}")
    spec = _2D if len(x_shape) == 4 else _1D
    xs = _args.as_shape(x_shape, spec.ndim, "x_shape", spec.x_layout)
    ws = _args.as_shape(weight_shape, spec.ndim, "weight_shape", spec.w_layout)
    p = spec.params(xs, ws, stride, padding, dilation, groups)
    return _core.explain(p, pass_, dtype, _args.check_algo(algo))
