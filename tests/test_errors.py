"""The error table: every invalid argument raises ValueError or TypeError whose message
names the argument and the offending values, before any work or allocation; direct
calls into convbp._core with wrong shapes or dtypes raise ValueError, never crash."""

from __future__ import annotations

import numpy as np
import pytest

import convbp
from convbp import _args, _core

X = np.ones((2, 4, 8, 8))
W = np.ones((6, 2, 3, 3))           # groups=2
B = np.ones(6)
DY = np.ones((2, 6, 6, 6))          # output of X, W, groups=2, no padding
X1, W1, DY1 = X[:, :, 0], W[:, :, 0], DY[:, :, 0]
G = dict(groups=2)

c2 = lambda **kw: convbp.conv2d(kw.pop("x", X), kw.pop("w", W), kw.pop("b", None), **{**G, **kw})
bi2 = lambda **kw: convbp.conv2d_backward_input(kw.pop("dy", DY), kw.pop("w", W), kw.pop("input_shape", X.shape),
                                                **{**G, **kw})
bw2 = lambda **kw: convbp.conv2d_backward_weight(kw.pop("x", X), kw.pop("dy", DY), kw.pop("weight_shape", W.shape),
                                                 **{**G, **kw})
bb2 = lambda dy: convbp.conv2d_backward_bias(dy)
all2 = lambda **kw: convbp.conv2d_backward(kw.pop("x", X), kw.pop("w", W), kw.pop("dy", DY), **{**G, **kw})
c1 = lambda **kw: convbp.conv1d(kw.pop("x", X1), kw.pop("w", W1), kw.pop("b", None), **{**G, **kw})
bi1 = lambda **kw: convbp.conv1d_backward_input(kw.pop("dy", DY1), kw.pop("w", W1), kw.pop("input_shape", X1.shape),
                                                **{**G, **kw})
bw1 = lambda **kw: convbp.conv1d_backward_weight(kw.pop("x", X1), kw.pop("dy", DY1), kw.pop("weight_shape", W1.shape),
                                                 **{**G, **kw})

BIG = 2**62
# (id, call, exception, regex the message must match)
TABLE = [
    # wrong ndim
    ("x-ndim", lambda: c2(x=X[0]), ValueError, r"x must be 4-D .*\(4, 8, 8\)"),
    ("weight-ndim", lambda: c2(w=W[0]), ValueError, r"weight must be 4-D .*\(2, 3, 3\)"),
    ("grad_output-ndim", lambda: bi2(dy=DY[0]), ValueError, r"grad_output must be 4-D .*\(6, 6, 6\)"),
    ("bias-grad_output-ndim", lambda: bb2(DY[0]), ValueError, r"grad_output must be 4-D"),
    ("1d-x-ndim", lambda: c1(x=X), ValueError, r"x must be 3-D .*\(2, 4, 8, 8\)"),
    ("1d-weight-ndim", lambda: c1(w=W), ValueError, r"weight must be 3-D"),
    # channels and groups
    ("channel-mismatch", lambda: c2(groups=1), ValueError, r"channel mismatch.*C=4.*weight.shape\[1\]=2.*groups=1"),
    ("channel-mismatch-1d", lambda: c1(groups=1), ValueError, r"channel mismatch.*C=4"),
    ("groups-not-dividing-C", lambda: c2(groups=3, w=np.ones((6, 1, 3, 3))), ValueError, r"groups=3 must divide in_channels C=4"),
    ("groups-not-dividing-K", lambda: c2(w=np.ones((5, 2, 3, 3))), ValueError, r"groups=2 must divide out_channels K=5"),
    ("groups-0", lambda: c2(groups=0), ValueError, r"groups=0 must be >= 1"),
    ("groups-negative", lambda: c2(groups=-2), ValueError, r"groups=-2 must be >= 1"),
    ("groups-float", lambda: c2(groups=2.0), TypeError, r"groups must be an int, got 2.0"),
    ("groups-bool", lambda: c2(groups=True), TypeError, r"groups must be an int, got True"),
    # stride, dilation, padding
    ("stride-0", lambda: c2(stride=0), ValueError, r"stride=\(0, 0\) must be >= 1"),
    ("stride-negative", lambda: c2(stride=(1, -1)), ValueError, r"stride=\(1, -1\) must be >= 1"),
    ("stride-length", lambda: c2(stride=(1, 2, 3)), ValueError, r"stride must be .* 2 ints, got \(1, 2, 3\)"),
    ("stride-type", lambda: c2(stride="1"), TypeError, r"stride must be .*'1'"),
    ("stride-float", lambda: c2(stride=1.0), TypeError, r"stride must be"),
    ("dilation-0", lambda: c2(dilation=0), ValueError, r"dilation=\(0, 0\) must be >= 1"),
    ("dilation-1d-0", lambda: c1(dilation=0), ValueError, r"dilation=0 must be >= 1"),
    ("dilation-length-1d", lambda: c1(dilation=(1, 2)), ValueError, r"dilation must be .* 1 ints, got \(1, 2\)"),
    ("padding-negative", lambda: c2(padding=-1), ValueError, r"padding=\(-1, -1, -1, -1\).* must be >= 0"),
    ("padding-negative-4", lambda: c2(padding=(1, 2, 3, -4)), ValueError, r"padding=\(1, 2, 3, -4\).* must be >= 0"),
    ("padding-negative-1d", lambda: c1(padding=(0, -2)), ValueError, r"padding=\(0, -2\).* must be >= 0"),
    ("padding-length-3", lambda: c2(padding=(1, 2, 3)), ValueError, r"padding must be .*got \(1, 2, 3\)"),
    ("padding-length-4-1d", lambda: c1(padding=(1, 2, 3, 4)), ValueError, r"padding must be .*got \(1, 2, 3, 4\)"),
    ("padding-float", lambda: c2(padding=1.5), TypeError, r"padding must be .*got 1.5"),
    ("padding-None", lambda: c2(padding=None), TypeError, r"padding must be .*got None"),
    ("padding-tuple-of-floats", lambda: c2(padding=(1.0, 2)), TypeError, r"padding must be an int, got 1.0"),
    ("padding-string", lambda: c2(padding="sam"), ValueError, r"padding='sam' is not one of 'valid', 'same'"),
    ("padding-string-case", lambda: c2(padding="SAME"), ValueError, r"padding='SAME' is not one of"),
    ("padding-string-1d", lambda: c1(padding="foo"), ValueError, r"padding='foo' is not one of"),
    ("output-size-0", lambda: c2(x=X[:, :, :2, :2]), ValueError, r"output size would be < 1.*\(2, 2\).*\(3, 3\)"),
    ("output-size-0-dilation", lambda: c2(dilation=(4, 1)), ValueError, r"output size would be < 1.*dilation=\(4, 1\)"),
    ("output-size-0-valid", lambda: c1(x=X1[:, :, :2], padding="valid"), ValueError, r"output size would be < 1.*L=2"),
    # dtypes
    *[(f"x-dtype-{t}", (lambda t=t: c2(x=X.astype(t))), TypeError, rf"x must be a float32 or float64 array, got dtype {t}")
      for t in ("int64", "int8", "bool", "complex128", "object", "float16")],
    ("weight-dtype-int", lambda: c2(w=W.astype(np.int32)), TypeError, r"weight must be a float32 or float64 .*int32"),
    ("grad_output-dtype-float16", lambda: bi2(dy=DY.astype(np.float16)), TypeError, r"grad_output must be .*float16"),
    ("bias-grad_output-dtype", lambda: bb2(DY.astype(np.complex64)), TypeError, r"grad_output must be .*complex64"),
    ("x-string-array", lambda: c2(x=np.full(X.shape, "a")), TypeError, r"x must be a float32 or float64 .*<U1"),
    ("x-ragged-list", lambda: c2(x=[[1.0], [1.0, 2.0]]), TypeError, r"x must be a float32 or float64 array"),
    ("x-weight-dtypes", lambda: c2(x=X.astype(np.float32)), TypeError, r"weight has dtype float64 but x has dtype float32"),
    ("x-grad_output-dtypes", lambda: bw2(dy=DY.astype(np.float32)), TypeError, r"grad_output has dtype float32 but x has dtype float64"),
    ("weight-grad_output-dtypes", lambda: bi2(w=W.astype(np.float32)), TypeError, r"grad_output has dtype float64 but weight has dtype float32"),
    ("combined-dtypes", lambda: all2(dy=DY.astype(np.float32)), TypeError, r"float32"),
    ("bias-dtype", lambda: c2(b=B.astype(np.float32)), TypeError, r"bias has dtype float32 but x has dtype float64"),
    ("bias-int", lambda: c2(b=np.ones(6, int)), TypeError, r"bias must be a float32 or float64 .*int64"),
    # shapes that do not fit together
    ("bias-shape", lambda: c2(b=B[:5]), ValueError, r"bias must have shape \(K,\) = \(6,\), got \(5,\)"),
    ("bias-2d", lambda: c2(b=B.reshape(6, 1)), ValueError, r"bias must have shape .*got \(6, 1\)"),
    ("grad_output-shape", lambda: bi2(dy=DY[:, :, :5]), ValueError, r"grad_output has shape \(2, 6, 5, 6\) .*\(2, 6, 6, 6\)"),
    ("grad_output-K", lambda: bw2(dy=DY[:, :3]), ValueError, r"grad_output has shape \(2, 3, 6, 6\)"),
    ("grad_output-N", lambda: bw2(dy=DY[:1]), ValueError, r"grad_output has shape \(1, 6, 6, 6\)"),
    ("combined-grad_output", lambda: all2(dy=DY[:, :, 1:]), ValueError, r"grad_output has shape \(2, 6, 5, 6\)"),
    ("1d-grad_output", lambda: bi1(dy=DY1[:, :, :5]), ValueError, r"grad_output has shape \(2, 6, 5\) .*\(2, 6, 6\)"),
    ("input_shape-H", lambda: bi2(input_shape=(2, 4, 9, 8)), ValueError, r"grad_output has shape \(2, 6, 6, 6\) .*\(2, 6, 7, 6\)"),
    ("input_shape-N", lambda: bi2(input_shape=(3, 4, 8, 8)), ValueError, r"grad_output has shape .*\(3, 6, 6, 6\)"),
    ("input_shape-C", lambda: bi2(input_shape=(2, 6, 8, 8)), ValueError, r"channel mismatch.*C=6"),
    ("input_shape-length", lambda: bi2(input_shape=(2, 4, 8)), ValueError, r"input_shape must have 4 entries .*\(2, 4, 8\)"),
    ("input_shape-negative", lambda: bi2(input_shape=(2, 4, -8, 8)), ValueError, r"input_shape=\(2, 4, -8, 8\) must not contain negative"),
    ("input_shape-zero-H", lambda: bi2(input_shape=(2, 4, 0, 8)), ValueError, r"\(H, W\)=\(0, 8\) must be >= 1"),
    ("input_shape-float", lambda: bi2(input_shape=(2, 4, 8.0, 8)), TypeError, r"input_shape must be an int, got 8.0"),
    ("input_shape-string", lambda: bi2(input_shape="abcd"), TypeError, r"input_shape must be a sequence .*'abcd'"),
    ("input_shape-1d-length", lambda: bi1(input_shape=(2, 4)), ValueError, r"input_shape must have 3 entries"),
    ("weight_shape-length", lambda: bw2(weight_shape=(6, 2, 3)), ValueError, r"weight_shape must have 4 entries"),
    ("weight_shape-C", lambda: bw2(weight_shape=(6, 4, 3, 3)), ValueError, r"channel mismatch.*weight.shape\[1\]=4"),
    ("weight_shape-R", lambda: bw2(weight_shape=(6, 2, 4, 3)), ValueError, r"grad_output has shape \(2, 6, 6, 6\) .*\(2, 6, 5, 6\)"),
    ("weight_shape-1d-K", lambda: bw1(weight_shape=(4, 2, 3)), ValueError, r"grad_output has shape \(2, 6, 6\) .*\(2, 4, 6\)"),
    ("weight_shape-zero-K", lambda: bw2(weight_shape=(0, 2, 3, 3)), ValueError, r"out_channels K=0 must be >= 1"),
    # sizes whose products overflow int64: raise before allocating anything
    ("overflow-input_shape", lambda: bi2(input_shape=(2**40, 4, 2**20, 2**20)), ValueError, r"sizes overflow: input size"),
    ("overflow-input_shape-HW", lambda: bi2(input_shape=(2, 4, BIG, BIG)), ValueError, r"sizes overflow"),
    ("overflow-input-bytes", lambda: bi2(input_shape=(1, 4, 2**30, 2**30)), ValueError, r"sizes overflow: input bytes"),
    ("overflow-input_shape-65bit", lambda: bi2(input_shape=(2, 4, 2**64, 8)), ValueError, r"input_shape=18446744073709551616 does not fit in 64 bits"),
    ("overflow-input_shape-1d", lambda: bi1(input_shape=(BIG, 4, BIG)), ValueError, r"sizes overflow"),
    ("overflow-weight_shape", lambda: bw2(weight_shape=(BIG, 2, 3, 3)), ValueError, r"sizes overflow: weight size"),
    ("overflow-padding", lambda: c2(padding=BIG), ValueError, r"sizes overflow: padded height"),
    ("overflow-padding-1d", lambda: c1(padding=(BIG, BIG)), ValueError, r"sizes overflow: padded width"),
    ("overflow-dilation", lambda: c2(dilation=BIG), ValueError, r"sizes overflow: dilated kernel height"),
    ("overflow-output", lambda: convbp.conv2d(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), padding=2**31),
     ValueError, r"sizes overflow: output size"),
    ("overflow-stride-65bit", lambda: c2(stride=2**63), ValueError, r"stride=9223372036854775808 does not fit in 64 bits"),
    # algo and need
    ("algo-unknown", lambda: c2(algo="fast"), ValueError, r"algo='fast' is not one of 'auto'"),
    ("algo-None", lambda: c2(algo=None), ValueError, r"algo=None is not one of"),
    ("algo-backward", lambda: bw2(algo="AUTO"), ValueError, r"algo='AUTO' is not one of"),
    ("algo-combined", lambda: all2(algo=""), ValueError, r"algo='' is not one of"),
    ("need-unknown", lambda: all2(need=("input", "grad")), ValueError, r"need contains \['grad'\]"),
    ("need-int", lambda: all2(need=5), TypeError, r"need must be a sequence .*got 5"),
    ("need-1d", lambda: convbp.conv1d_backward(X1, W1, DY1, groups=2, need=["weights"]), ValueError, r"need contains \['weights'\]"),
    # runtime
    ("threads-0", lambda: convbp.set_num_threads(0), ValueError, r"n=0 must be in \[1, 1024\]"),
    ("threads-negative", lambda: convbp.set_num_threads(-3), ValueError, r"n=-3 must be in \[1, 1024\]"),
    ("threads-huge", lambda: convbp.set_num_threads(2**40), ValueError, r"n=1099511627776"),
    ("threads-too-many", lambda: convbp.set_num_threads(10**6), ValueError, r"n=1000000 must be in \[1, 1024\]"),
    ("threads-float", lambda: convbp.set_num_threads(1.5), TypeError, r"n must be an int, got 1.5"),
    ("explain-pass", lambda: convbp.explain(X.shape, W.shape, groups=2, pass_="bias"), ValueError, r"pass_='bias'"),
    ("explain-dtype", lambda: convbp.explain(X.shape, W.shape, groups=2, dtype="float16"), ValueError, r"dtype='float16'"),
    ("explain-algo", lambda: convbp.explain(X.shape, W.shape, groups=2, algo="x"), ValueError, r"algo='x'"),
    ("explain-x_shape", lambda: convbp.explain((2, 4), W.shape), ValueError, r"x_shape must be"),
    ("explain-groups", lambda: convbp.explain(X.shape, W.shape, groups=3), ValueError, r"groups=3 must divide"),
    ("peak_gflops-threads", lambda: convbp.peak_gflops(0), ValueError, r"threads=0 must be in \[1, 1024\]"),
]


@pytest.mark.parametrize("call,exc,match", [pytest.param(*t[1:], id=t[0]) for t in TABLE])
def test_invalid_argument(call, exc, match, threads):
    with pytest.raises(exc, match=match):
        call()


def test_table_ids_unique():
    ids = [t[0] for t in TABLE]
    assert len(ids) == len(set(ids))


# Direct calls into the binding: its own checks, for callers that bypass convbp._functional.
P = _args.params2d(X.shape, W.shape, 1, 0, 1, 2)
CORE = [
    ("x-shape", lambda: _core.forward(P, X[0], W, None), r"x has shape \(4, 8, 8\), expected \(2, 4, 8, 8\)"),
    ("x-dtype", lambda: _core.forward(P, X.astype(np.int64), W, None), r"x must be a C-contiguous native-endian float64"),
    ("mixed-dtypes", lambda: _core.forward(P, X.astype(np.float32), W, None), r"weight must be a C-contiguous native-endian float32"),
    ("x-not-contiguous", lambda: _core.forward(P, X[:, :, ::-1], W, None), r"x must be a C-contiguous"),
    ("x-fortran", lambda: _core.forward(P, np.asfortranarray(X), W, None), r"x must be a C-contiguous"),
    ("x-big-endian", lambda: _core.forward(P, X.astype(">f8"), W, None), r"x must be a C-contiguous native-endian"),
    ("bias-list", lambda: _core.forward(P, X, W, [1.0] * 6), r"bias must be a C-contiguous"),
    ("bias-shape", lambda: _core.forward(P, X, W, B[:3]), r"bias has shape \(3,\), expected \(6,\)"),
    ("algo", lambda: _core.forward(P, X, W, None, "nope"), r"algo='nope'"),
    ("invalid-params", lambda: _core.forward(_core.ConvParams(N=2, C=4, H=8, W=8, K=6, R=3, S=3, groups=2, stride_h=0),
                                             X, W, None), r"stride=\(0, 1\) must be >= 1"),
    ("bwd-input-dy-shape", lambda: _core.backward_input(P, np.ones((2, 5, 6, 6)), W), r"grad_output has shape \(2, 5, 6, 6\)"),
    ("bwd-input-dtypes", lambda: _core.backward_input(P, DY, W.astype(np.float32)), r"grad_output must be .*float32"),
    ("bwd-weight-dy-shape", lambda: _core.backward_weight(P, X, np.ones((2, 6, 6, 5))), r"grad_output has shape"),
    ("bwd-weight-float16", lambda: _core.backward_weight(P, X, DY.astype(np.float16)), r"grad_output must be .*float64"),
    ("bwd-bias-1d", lambda: _core.backward_bias(DY[0, 0, 0]), r"at least 2 dimensions"),
    ("bwd-bias-int", lambda: _core.backward_bias(DY.astype(np.int32)), r"grad_output must be a C-contiguous"),
    ("bwd-bias-strided", lambda: _core.backward_bias(DY[:, :, ::2]), r"grad_output must be a C-contiguous"),
    ("explain-pass", lambda: _core.explain(P, "bwd", "float32"), r"pass='bwd'"),
    ("set-threads", lambda: _core.set_num_threads(0), r"n=0 must be in \[1, 1024\]"),
]


@pytest.mark.parametrize("call,match", [pytest.param(*t[1:], id=t[0]) for t in CORE])
def test_core_direct_calls_raise_value_error(call, match, threads):
    with pytest.raises(ValueError, match=match):
        call()


def test_core_wrong_argument_types_raise_type_error():
    with pytest.raises(TypeError):
        _core.forward(P, None, W, None)
    with pytest.raises(TypeError):
        _core.forward(None, X, W, None)
    with pytest.raises(TypeError):
        _core.ConvParams(N=2**70, C=1, H=1, W=1, K=1, R=1, S=1)


def test_errors_leave_threads_and_later_calls_working(threads):
    with pytest.raises(ValueError):
        convbp.set_num_threads(0)
    assert convbp.get_num_threads() == threads
    np.testing.assert_array_equal(c2(), np.full(DY.shape, 18.0))


def test_params_memo_keeps_every_check():
    """_args memoizes the ConvParams of exact int/str/tuple arguments. A cached
    stride=1 must not let 1.0 or True through (1.0 == True == 1 as dict keys), a
    failed call must raise again on every call, and the memo stays bounded."""
    p = _args.params2d(X.shape, W.shape, 1, 0, 1, 2)
    assert _args.params2d(X.shape, W.shape, 1, 0, 1, 2) is p  # the memo answers
    assert _args.params2d(X.shape, W.shape, (1, 1), 0, 1, 2) is not p  # another key, same values
    for bad in (1.0, True, (1.0, 1), (True, 1)):
        with pytest.raises(TypeError, match="stride must be"):
            c2(stride=bad)
    for _ in range(2):
        with pytest.raises(ValueError, match=r"stride=\(0, 0\) must be >= 1"):
            c2(stride=0)
    np.testing.assert_array_equal(c2(stride=np.int64(1)), c2(stride=1))  # numpy ints: unmemoized, same result
    for k in range(_args._PARAMS_MEMO_SIZE + 10):
        _args.params1d((1, 1, 8 + k), (1, 1, 3), 1, 0, 1, 1)
    assert len(_args._PARAMS_MEMO) <= _args._PARAMS_MEMO_SIZE


def test_params_memo_from_many_python_threads():
    """Python threads filling the memo past its size at once: no error, results right."""
    import threading
    errors = []

    def work(t):
        try:
            for k in range(_args._PARAMS_MEMO_SIZE + 100):
                p = _args.params1d((1, 2, 10 + k), (3, 2, 3), 1, t % 2, 1, 1)
                assert p.Q == 8 + k + 2 * (t % 2)
        except Exception as e:  # noqa: BLE001 - any failure is the test's
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]
    assert len(_args._PARAMS_MEMO) <= _args._PARAMS_MEMO_SIZE


# Geometry that validates but is absurd for the direct route (strides and dilations in
# the billions): the direct kernels' padded planes would leave int64 (a crash before).
# Auto runs im2col instead, which matches the naive route; algo="direct" says why not.
HUGE_GEOMETRY = [
    ("grouped-dilation", (1, 16, 4, 5), (16, 8, 2, 2), dict(groups=2, dilation=3 * 2**30, padding=(0, 3 * 2**30, 0, 3 * 2**30)), "float32", "fwd"),
    ("grouped-dilation-bw", (1, 16, 4, 5), (16, 8, 2, 2), dict(groups=2, dilation=3 * 2**30, padding=(0, 3 * 2**30, 0, 3 * 2**30)), "float32", "bwd_weight"),
    ("stem-dilation-f64", (1, 3, 5, 6), (4, 3, 2, 2), dict(dilation=2**31, padding=(0, 2**31, 0, 2**31)), "float64", "bwd_weight"),
    ("column-stride", (1, 1, 4, 6), (1, 1, 1, 2), dict(stride=(1, 2**62)), "float64", "fwd"),
    ("column-stride-2^33", (1, 1, 4, 6), (1, 1, 1, 2), dict(stride=(1, 2**33)), "float64", "fwd"),
    ("conv1d-stride", (1, 1, 6), (1, 1, 2), dict(stride=2**62), "float64", "fwd"),
]


@pytest.mark.parametrize("name,xs,ws,kw,dtype,pass_", HUGE_GEOMETRY, ids=[h[0] for h in HUGE_GEOMETRY])
def test_direct_refuses_absurd_extents_and_auto_runs_im2col(name, xs, ws, kw, dtype, pass_):
    from convbp import _check
    from convbp._check import Case
    case = Case(name, xs, ws, **kw)
    d = _check.make_inputs(case, dtype, seed=2)
    want = _check.run_api(case, pass_, d, "naive")
    np.testing.assert_allclose(_check.run_api(case, pass_, d, "auto"), want, rtol=1e-5, atol=1e-5)
    assert convbp.explain(xs, ws, pass_=pass_, dtype=dtype, **kw)["route"] == "im2col"
    with pytest.raises(ValueError, match=r"algo='direct' cannot run .*too large for the direct kernels.*'im2col'"):
        _check.run_api(case, pass_, d, "direct")


def test_conv_params_with_zero_stride_print_without_dividing():
    """ConvParams built straight from _core are printed and inspected before validate():
    P and Q of a stride (or groups) of 0 read 0 instead of dividing by zero (SIGFPE)."""
    p = _core.ConvParams(N=1, C=1, H=4, W=4, K=1, R=3, S=3, stride_h=0, groups=0)
    assert (p.P, p.Q) == (0, 2)
    assert "stride=(0, 1)" in repr(p)
    with pytest.raises(ValueError, match="groups=0 must be >= 1"):
        p.validate()


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -1.0, 0.0, 61.0])
def test_peak_gflops_refuses_durations_that_never_finish(seconds):
    with pytest.raises(ValueError, match=r"seconds=.* must be in \(0, 60\]"):
        convbp.peak_gflops(1, seconds)
    with pytest.raises(ValueError, match=r"threads=2147483648 must be in \[1, 1024\]"):
        convbp.peak_gflops(2**31)
    with pytest.raises(TypeError, match="seconds must be a real number, got str"):
        convbp.peak_gflops(1, "x")


@pytest.mark.parametrize("pool", ["MaxPool2d", "AvgPool2d"])
def test_pooling_with_a_huge_kernel_visits_only_taps_that_reach_the_input(pool):
    """A window of 2^40 with padding 2^39 on a 4x4 input: every window covers the whole
    input. The loops used to visit every tap (hours); now only those that reach it."""
    from convbp import nn
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    layer = getattr(nn, pool)(2**40, stride=1, padding=2**39)
    y = layer(x)
    assert y.shape == (1, 1, 5, 5)
    if pool == "MaxPool2d":
        np.testing.assert_array_equal(y, np.full((1, 1, 5, 5), 15.0, np.float32))
        dx = layer.backward(np.ones_like(y))
        assert dx[0, 0, 3, 3] == 25 and dx.sum() == 25
    else:  # count_include_pad: the divisor is the padded window, clipped at the padded input's end
        assert np.all(y >= 0) and np.all(y < 1e-9)


@pytest.mark.parametrize("big", [2**31 - 1, 2**31, 2**32 + 1, 2**62])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_strides_and_dilations_past_32_bits_match_naive(big, dtype):
    """Strides and dilations past 2^31 (1-wide outputs, taps that skip the input):
    every route that runs them matches naive in every pass. im2col once stored such a
    column stride in a 32-bit run field, where 2^32 became 0, "copy zeros"."""
    from convbp import _check
    from convbp._check import Case
    cases = [Case("stride-w", (2, 3, 4, 6), (4, 3, 2, 2), stride=(1, big)),
             Case("stride-h", (2, 3, 6, 4), (4, 3, 2, 2), stride=(big, 2)),
             Case("dilation", (1, 4, 5, 6), (4, 2, 2, 2), dilation=(1, big), padding=(0, 0, 0, big), groups=2),
             Case("conv1d", (2, 3, 7), (5, 3, 2), stride=big, padding=1)]
    for case in cases:
        d = _check.make_inputs(case, dtype, seed=1)
        for p in ("fwd", "bwd_data", "bwd_weight"):
            want = _check.run_api(case, p, d, "naive")
            for algo in ("auto", "im2col", "direct"):
                try:
                    got = _check.run_api(case, p, d, algo)
                except ValueError as e:  # direct refuses absurd extents, naming im2col
                    assert algo == "direct" and "too large for the direct kernels" in str(e)
                    continue
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{case.name} {p} {algo}")
