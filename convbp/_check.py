"""``python -m convbp check``: every pass of the compiled kernels against the float64
NumPy reference (``convbp.reference``) on a built-in list of odd shapes, both dtypes,
conv1d and conv2d, under "auto" and every route ``_core.route_names()`` lists.

The error measure. Every output element e of every pass is a sum of n products t_i
(forward: n = (C/g)*R*S plus the bias; backward-input: at most (K/g)*R*S;
backward-weight and bias: N*P*Q). Computed with unit roundoff u in *any* order, with
or without FMA, the result obeys |fl(e) - e| <= gamma_n * sum_i |t_i|,
gamma_n = n*u / (1 - n*u) (Higham, "Accuracy and Stability of Numerical Algorithms",
sec. 3.1), and rounding the stored result adds one more u. Each pass is linear in
each argument, so M = sum_i |t_i| is the same pass applied to |x|, |w|, |dy|: the
reference computes it exactly as it computes e. We report, per pass,

    err = max over elements of |actual - expected| / M

and accept err <= gamma_{n+1}(u_dtype) + gamma_{n+1}(u_float64) (the kernel's
rounding plus the float64 reference's). Where M == 0 every term is an exact zero and
the result must be exactly 0. A dropped or doubled term costs about M/n, far above
the bound for the sizes used here, so wrong indexing cannot hide in the tolerance.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _args, _core, _functional as api, reference as ref

PASSES = ("fwd", "bwd_data", "bwd_weight", "bias")
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class Case:
    """One convolution: x (N, C, H, W) or (N, C, L), weight (K, C/groups, R, S) or
    (K, C/groups, S), and the public API's stride/padding/dilation/groups."""
    name: str
    x_shape: tuple
    w_shape: tuple
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    groups: int = 1

    @property
    def dims(self) -> int:
        return len(self.x_shape) - 2

    @property
    def conv(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    def params(self):
        make = _args.params2d if self.dims == 2 else _args.params1d
        return make(self.x_shape, self.w_shape, self.stride, self.padding, self.dilation, self.groups)

    def y_shape(self) -> tuple:
        p = self.params()
        return (p.N, p.K, p.P, p.Q) if self.dims == 2 else (p.N, p.K, p.Q)

    def describe(self) -> str:
        defaults = dict(stride=1, padding=0, dilation=1, groups=1)
        extra = " ".join(f"{k}={v}" for k, v in self.conv.items() if v != defaults[k])
        return f"{self.name} x{self.x_shape} w{self.w_shape} {extra}".rstrip()


# A dozen or so shapes that between them hit every odd corner of the index arithmetic.
CASES = (
    Case("basic-3x3", (2, 4, 9, 9), (6, 4, 3, 3), padding=1),
    Case("primes", (3, 5, 13, 11), (7, 5, 3, 5)),
    Case("stride>kernel", (2, 3, 17, 13), (4, 3, 2, 3), stride=(5, 4)),
    Case("big-dilation", (2, 2, 19, 17), (3, 2, 3, 3), padding=2, dilation=(5, 4)),
    Case("asym-pad>kernel", (1, 2, 5, 6), (3, 2, 2, 2), stride=(2, 3), padding=(4, 5, 6, 3)),
    Case("groups-3", (2, 6, 11, 9), (9, 2, 3, 3), stride=2, padding=1, groups=3),
    Case("depthwise-x2", (2, 4, 10, 9), (8, 1, 3, 3), padding="same", groups=4),
    Case("1x1", (3, 7, 6, 5), (5, 7, 1, 1)),
    Case("kernel=input", (2, 3, 5, 7), (4, 3, 5, 7)),
    Case("same-even-s2", (2, 3, 9, 8), (4, 3, 4, 2), stride=2, padding="same"),
    Case("same_lower-s3", (2, 3, 10, 8), (4, 3, 3, 2), stride=(3, 2), padding="same_lower", dilation=(1, 2)),
    Case("full-s2", (2, 3, 6, 5), (4, 3, 3, 2), stride=(2, 1), padding="full", dilation=(2, 1)),
    Case("batch-0", (0, 4, 8, 8), (6, 2, 3, 3), stride=2, padding=1, groups=2),
    Case("long-reduction", (4, 48, 12, 12), (16, 48, 3, 3), padding=1),
    Case("1d-asym-groups", (3, 4, 23), (6, 2, 5), stride=4, padding=(3, 0), dilation=2, groups=2),
    Case("1d-depthwise-same", (2, 4, 11), (8, 1, 3), padding="same", groups=4),
    Case("1d-full", (2, 3, 7), (5, 3, 7), padding="full"),
)
QUICK = ("basic-3x3", "stride>kernel", "asym-pad>kernel", "groups-3", "same-even-s2", "batch-0",
         "1d-asym-groups")


# --------------------------------------------------------------------------------------
# The error measure
# --------------------------------------------------------------------------------------

def gamma(n: int, u: float) -> float:
    """Higham's gamma_n = n*u / (1 - n*u): the relative bound of an n-term sum."""
    nu = n * u
    return nu / (1.0 - nu) if nu < 1 else float("inf")


def unit_roundoff(dtype) -> float:
    return float(np.finfo(dtype).eps) / 2


def tolerance(dtype, n_terms: int) -> float:
    """Bound on |actual - expected| / sum|terms| for an n-term sum in ``dtype``
    (kernel) against float64 (reference), plus the final rounding."""
    return gamma(n_terms + 1, unit_roundoff(dtype)) + gamma(n_terms + 1, unit_roundoff(np.float64))


def rel_error(actual, expected, magnitude) -> float:
    """max |actual - expected| / magnitude over the elements; where magnitude is 0 the
    two must agree exactly (else inf). 0.0 for empty arrays."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    m = np.asarray(magnitude, dtype=np.float64)
    if a.shape != e.shape or e.shape != m.shape:
        raise ValueError(f"shapes differ: actual {a.shape}, expected {e.shape}, magnitude {m.shape}")
    if a.size == 0:
        return 0.0
    diff = np.abs(a - e)
    if not np.all(np.isfinite(diff)):
        return float("inf")
    zero = m == 0
    if np.any(diff[zero] != 0):
        return float("inf")
    return float(np.max(np.where(zero, 0.0, diff / np.where(zero, 1.0, m)), initial=0.0))


# --------------------------------------------------------------------------------------
# One pass of one case
# --------------------------------------------------------------------------------------

def make_inputs(case: Case, dtype, seed: int = 0) -> dict:
    """Standard-normal x, weight, bias and grad_output of ``dtype`` for ``case``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return {
        "x": rng.standard_normal(case.x_shape).astype(dtype),
        "w": rng.standard_normal(case.w_shape).astype(dtype),
        "b": rng.standard_normal(case.w_shape[0]).astype(dtype),
        "dy": rng.standard_normal(case.y_shape()).astype(dtype),
    }


def _fns(module, dims: int):
    pre = "conv2d" if dims == 2 else "conv1d"
    return tuple(getattr(module, pre + suf) for suf in ("", "_backward_input", "_backward_weight", "_backward_bias"))


def n_terms(case: Case, pass_: str) -> int:
    """The most products summed into one output element of ``pass_``."""
    p = case.params()
    if pass_ == "fwd":
        return p.C // p.groups * p.R * p.S + 1  # + the bias
    if pass_ == "bwd_data":
        return p.K // p.groups * p.R * p.S
    return p.N * p.P * p.Q


def run_api(case: Case, pass_: str, data: dict, algo: str = "auto") -> np.ndarray:
    """The compiled kernels' result of ``pass_`` (through the public API)."""
    fwd, bwd_in, bwd_w, bwd_b = _fns(api, case.dims)
    if pass_ == "fwd":
        return fwd(data["x"], data["w"], data["b"], **case.conv, algo=algo)
    if pass_ == "bwd_data":
        return bwd_in(data["dy"], data["w"], case.x_shape, **case.conv, algo=algo)
    if pass_ == "bwd_weight":
        return bwd_w(data["x"], data["dy"], case.w_shape, **case.conv, algo=algo)
    return bwd_b(data["dy"])


def run_reference(case: Case, pass_: str, data: dict):
    """(expected, magnitude): the reference's float64 result of ``pass_`` and the same
    pass on absolute values, M = sum |terms| per element (see the module docstring)."""
    fwd, bwd_in, bwd_w, bwd_b = _fns(ref, case.dims)
    a = {k: np.abs(v) for k, v in data.items()}
    if pass_ == "fwd":
        f = lambda d: fwd(d["x"], d["w"], d["b"], **case.conv)
    elif pass_ == "bwd_data":
        f = lambda d: bwd_in(d["dy"], d["w"], case.x_shape, **case.conv)
    elif pass_ == "bwd_weight":
        f = lambda d: bwd_w(d["x"], d["dy"], case.w_shape, **case.conv)
    else:
        f = lambda d: bwd_b(d["dy"])
    return f(data), f(a)


def route_of(case: Case, pass_: str, dtype, algo: str) -> str:
    """The route a call runs (convbp.explain), "-" for bias (no routes). Raises
    ValueError when ``algo`` names a route that refuses this call."""
    if pass_ == "bias":
        return "-"
    from ._runtime import explain
    return explain(case.x_shape, case.w_shape, **case.conv, pass_=pass_, dtype=np.dtype(dtype).name,
                   algo=algo)["route"]


@dataclass
class Result:
    case: Case
    pass_: str
    dtype: str
    algo: str
    route: str = ""
    err: float = float("nan")
    tol: float = float("nan")
    ok: bool = False
    note: str = ""

    def row(self) -> list:
        status = "ok" if self.ok else "FAIL"
        if self.note:
            status += f" ({self.note})"
        return [self.case.describe(), self.pass_, self.dtype, self.algo, self.route,
                f"{self.err:.2e}", f"{self.tol:.1e}", status]


def check_pass(case: Case, pass_: str, dtype, algo: str = "auto", seed: int = 0, *,
               data: Optional[dict] = None, expected=None) -> Result:
    """Run ``pass_`` of ``case`` through the compiled kernels and compare it with the
    reference. A named route that refuses the call is reported (ok, note "refused"),
    since refusing is a route's right; any other error is a failure. ``data`` and
    ``expected`` (the (expected, magnitude) pair) may be passed to reuse them."""
    dtype = np.dtype(dtype)
    res = Result(case, pass_, dtype.name, algo, tol=tolerance(dtype, n_terms(case, pass_)))
    data = make_inputs(case, dtype, seed) if data is None else data
    try:
        res.route = route_of(case, pass_, dtype, algo)
    except ValueError as e:
        if "cannot run" in str(e):
            res.route, res.ok, res.note = "-", True, "refused"
            return res
        raise
    actual = run_api(case, pass_, data, algo)
    want, mag = run_reference(case, pass_, data) if expected is None else expected
    problems = []
    if actual.dtype != dtype:
        problems.append(f"dtype {actual.dtype}")
    if not actual.flags.c_contiguous:
        problems.append("not C-contiguous")
    if actual.shape != want.shape:
        problems.append(f"shape {actual.shape} != {want.shape}")
    else:
        res.err = rel_error(actual, want, mag)
    res.ok = not problems and res.err <= res.tol
    res.note = ", ".join(problems)
    return res


def run_all(cases=CASES, algos=None, dtypes=DTYPES, seed: int = 0):
    """Yield a Result for every (case, dtype, pass, algo); algos default to "auto" and
    every route name."""
    algos = ("auto",) + tuple(_core.route_names()) if algos is None else tuple(algos)
    for case in cases:
        for dtype in dtypes:
            data = make_inputs(case, dtype, seed)
            for pass_ in PASSES:
                expected = run_reference(case, pass_, data)
                for algo in (algos if pass_ != "bias" else ("auto",)):
                    yield check_pass(case, pass_, dtype, algo, data=data, expected=expected)


# --------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------

HEADER = ["case", "pass", "dtype", "algo", "route", "max rel err", "tol", "status"]


def _print_table(rows, out) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for j, r in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)
        if j == 0:
            print("  ".join("-" * w for w in widths), file=out)


def main(argv=None) -> int:
    """``python -m convbp check [--quick] [--seed N]``: 0 when every pass agrees with
    the reference within its bound, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m convbp check",
        description="Compare every pass (fwd, bwd_data, bwd_weight, bias) of convbp's compiled kernels "
                    "with the float64 NumPy reference on built-in shapes, float32 and float64, under "
                    "algo='auto' and every route. The error is max |actual - expected| / sum|terms|, "
                    "bounded by gamma_(n+1) of the dtype plus that of float64 (n terms per element).")
    parser.add_argument("--quick", action="store_true",
                        help=f"only {len(QUICK)} of the {len(CASES)} shapes and algo='auto'")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the inputs (default 0)")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if c.name in QUICK] if args.quick else list(CASES)
    algos = ("auto",) if args.quick else None
    from ._runtime import config
    cfg = config()
    print(f"convbp {cfg['version']}: isa {cfg['isa']} (detected {cfg['isa_detected']}), "
          f"{cfg['threads']} threads, routes {', '.join(cfg['routes'])}")
    t0 = time.perf_counter()
    rows, worst, failed = [HEADER], {}, 0
    for r in run_all(cases, algos, seed=args.seed):
        rows.append(r.row())
        failed += not r.ok
        if r.note != "refused":
            key = (r.dtype, r.pass_)
            worst[key] = max(worst.get(key, 0.0), r.err if r.err == r.err else float("inf"))
    _print_table(rows, sys.stdout)
    print()
    print("largest relative error per dtype and pass:")
    for (dt, ps), e in sorted(worst.items()):
        print(f"  {dt:8} {ps:11} {e:.3e}")
    n = len(rows) - 1
    print(f"\n{n - failed}/{n} checks passed in {time.perf_counter() - t0:.1f} s"
          + (f"; {failed} FAILED" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
