// Pooling bindings for convbp.nn's MaxPool/AvgPool layers: check the arrays, build
// PoolParams (which validates itself), release the GIL, call cpp/drivers/pool2d.cpp.
// Python (convbp/nn/pooling.py) computes the output size and checks the geometry.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "convbp/pool.hpp"

namespace py = pybind11;
using convbp::PoolParams;

namespace convbp_py {

namespace {

using Pair = std::vector<int64_t>;

Pair shape_of(const py::array& a, const char* name) {
  if (a.ndim() != 4) throw py::value_error(std::string(name) + " must be a 4-D array (N, C, H, W), got " +
                                           std::to_string(a.ndim()) + " dimensions");
  return Pair(a.shape(), a.shape() + 4);
}

// The input shape (N, C, H, W), the window geometry and the output size (P, Q),
// validated here, so errors come back as ValueError before any array is read.
PoolParams make_params(const Pair& x, const Pair& k, const Pair& s, const Pair& p, const Pair& d, const Pair& out) {
  if (x.size() != 4) throw py::value_error("x_shape must be (N, C, H, W), got " + shape_str(x));
  for (const Pair* v : {&k, &s, &p, &d, &out})
    if (v->size() != 2) throw py::value_error("pooling geometry takes pairs (h, w), got " + shape_str(*v));
  PoolParams q;
  q.N = x[0], q.C = x[1], q.H = x[2], q.W = x[3];
  q.kh = k[0], q.kw = k[1], q.sh = s[0], q.sw = s[1], q.ph = p[0], q.pw = p[1], q.dh = d[0], q.dw = d[1];
  q.P = out[0], q.Q = out[1];
  try {
    q.validate();
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  return q;
}

bool is_f32(const py::array& a) { return py::isinstance<py::array_t<float>>(a); }

template <typename T>
py::tuple max_forward(const py::array& x, const PoolParams& q) {
  const T* xp = checked<T>(x, "x", {q.N, q.C, q.H, q.W});
  py::array_t<T> y({q.N, q.C, q.P, q.Q});
  py::array_t<int64_t> idx({q.N, q.C, q.P, q.Q});
  T* yp = y.mutable_data();
  int64_t* ip = idx.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::max_pool2d_forward<T>(q, xp, yp, ip);
  }
  return py::make_tuple(y, idx);
}

template <typename T>
py::array_t<T> max_backward(const py::array& dy, const py::array& idx, const PoolParams& q) {
  const T* gp = checked<T>(dy, "grad_output", {q.N, q.C, q.P, q.Q});
  const int64_t* ip = checked<int64_t>(idx, "indices", {q.N, q.C, q.P, q.Q});
  py::array_t<T> dx({q.N, q.C, q.H, q.W});
  T* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::max_pool2d_backward<T>(q, gp, ip, dxp);
  }
  return dx;
}

template <typename T>
py::array_t<T> avg_forward(const py::array& x, const PoolParams& q, bool include_pad, int64_t divisor) {
  const T* xp = checked<T>(x, "x", {q.N, q.C, q.H, q.W});
  py::array_t<T> y({q.N, q.C, q.P, q.Q});
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::avg_pool2d_forward<T>(q, include_pad, divisor, xp, yp);
  }
  return y;
}

template <typename T>
py::array_t<T> avg_backward(const py::array& dy, const PoolParams& q, bool include_pad, int64_t divisor) {
  const T* gp = checked<T>(dy, "grad_output", {q.N, q.C, q.P, q.Q});
  py::array_t<T> dx({q.N, q.C, q.H, q.W});
  T* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::avg_pool2d_backward<T>(q, include_pad, divisor, gp, dxp);
  }
  return dx;
}

}  // namespace

void register_pool(py::module_& m) {
  m.def("max_pool2d", [](const py::array& x, const Pair& k, const Pair& s, const Pair& p, const Pair& d,
                         const Pair& out) {
    const PoolParams q = make_params(shape_of(x, "x"), k, s, p, d, out);
    return is_f32(x) ? max_forward<float>(x, q) : max_forward<double>(x, q);
  }, "(y, indices) of a max pool; indices are h * W + w within each plane.");
  m.def("max_pool2d_backward", [](const py::array& dy, const py::array& idx, const Pair& x_shape, const Pair& k,
                                  const Pair& s, const Pair& p, const Pair& d) -> py::array {
    const Pair out = shape_of(dy, "grad_output");
    const PoolParams q = make_params(x_shape, k, s, p, d, {out[2], out[3]});
    if (is_f32(dy)) return max_backward<float>(dy, idx, q);
    return max_backward<double>(dy, idx, q);
  });
  m.def("avg_pool2d", [](const py::array& x, const Pair& k, const Pair& s, const Pair& p, const Pair& out,
                         bool count_include_pad, int64_t divisor_override) -> py::array {
    const PoolParams q = make_params(shape_of(x, "x"), k, s, p, {1, 1}, out);
    if (is_f32(x)) return avg_forward<float>(x, q, count_include_pad, divisor_override);
    return avg_forward<double>(x, q, count_include_pad, divisor_override);
  });
  m.def("avg_pool2d_backward", [](const py::array& dy, const Pair& x_shape, const Pair& k, const Pair& s,
                                  const Pair& p, bool count_include_pad, int64_t divisor_override) -> py::array {
    const Pair out = shape_of(dy, "grad_output");
    const PoolParams q = make_params(x_shape, k, s, p, {1, 1}, {out[2], out[3]});
    if (is_f32(dy)) return avg_backward<float>(dy, q, count_include_pad, divisor_override);
    return avg_backward<double>(dy, q, count_include_pad, divisor_override);
  });
}

}  // namespace convbp_py
