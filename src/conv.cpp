// The pass bindings: check arrays against the ConvParams with the GIL held,
// allocate the output, release the GIL, call cpp/. Python (convbp._functional)
// has already normalized arguments and made inputs C-contiguous; these checks
// are the binding's own preconditions, so a direct caller of _core gets a
// ValueError too, never a crash.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "convbp/conv.hpp"

namespace py = pybind11;
using convbp::ConvParams;

namespace convbp_py {

namespace {

template <typename T>
py::array_t<T> forward(const ConvParams& p, const py::array& x, const py::array& w, const py::object& bias,
                       const std::string& algo) {
  p.validate();
  const T* xp = checked<T>(x, "x", {p.N, p.C, p.H, p.W});
  const T* wp = checked<T>(w, "weight", {p.K, p.Cg(), p.R, p.S});
  const T* bp = nullptr;
  py::array b;
  if (!bias.is_none()) {
    b = py::reinterpret_borrow<py::array>(bias);
    bp = checked<T>(b, "bias", {p.K});
  }
  py::array_t<T> y({p.N, p.K, p.P(), p.Q()});
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::conv_forward<T>(p, xp, wp, bp, yp, algo);
  }
  return y;
}

template <typename T>
py::array_t<T> backward_input(const ConvParams& p, const py::array& dy, const py::array& w, const std::string& algo) {
  p.validate();
  const T* dyp = checked<T>(dy, "grad_output", {p.N, p.K, p.P(), p.Q()});
  const T* wp = checked<T>(w, "weight", {p.K, p.Cg(), p.R, p.S});
  py::array_t<T> dx({p.N, p.C, p.H, p.W});
  T* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::conv_backward_input<T>(p, dyp, wp, dxp, algo);
  }
  return dx;
}

template <typename T>
py::array_t<T> backward_weight(const ConvParams& p, const py::array& x, const py::array& dy, const std::string& algo) {
  p.validate();
  const T* xp = checked<T>(x, "x", {p.N, p.C, p.H, p.W});
  const T* dyp = checked<T>(dy, "grad_output", {p.N, p.K, p.P(), p.Q()});
  py::array_t<T> dw({p.K, p.Cg(), p.R, p.S});
  T* dwp = dw.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::conv_backward_weight<T>(p, xp, dyp, dwp, algo);
  }
  return dw;
}

// grad_output (N, K, ...) -> (K,): the sum over every axis but 1.
template <typename T>
py::array_t<T> backward_bias(const py::array& dy) {
  if (dy.ndim() < 2) throw py::value_error("grad_output must have at least 2 dimensions (N, K, ...), got " +
                                           std::to_string(dy.ndim()));
  std::vector<int64_t> shape(dy.shape(), dy.shape() + dy.ndim());
  const T* dyp = checked<T>(dy, "grad_output", shape);
  int64_t rest = 1;
  for (size_t i = 2; i < shape.size(); ++i) rest *= shape[i];
  const int64_t N = shape[0], K = shape[1];
  py::array_t<T> db({K});
  T* dbp = db.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::conv_backward_bias<T>(N, K, rest, dyp, dbp);
  }
  return db;
}

bool is_f32(const py::array& a) { return py::isinstance<py::array_t<float>>(a); }

convbp::Pass parse_pass(const std::string& s) {
  if (s == "fwd") return convbp::Pass::Forward;
  if (s == "bwd_data") return convbp::Pass::BackwardInput;
  if (s == "bwd_weight") return convbp::Pass::BackwardWeight;
  throw py::value_error("pass='" + s + "' is not one of 'fwd', 'bwd_data', 'bwd_weight'");
}

}  // namespace

void register_conv(py::module_& m) {
  m.def("forward", [](const ConvParams& p, const py::array& x, const py::array& w, const py::object& b,
                      const std::string& algo) -> py::array {
        return is_f32(x) ? py::array(forward<float>(p, x, w, b, algo)) : py::array(forward<double>(p, x, w, b, algo));
      }, py::arg("params"), py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("algo") = "auto");
  m.def("backward_input", [](const ConvParams& p, const py::array& dy, const py::array& w, const std::string& algo) -> py::array {
        return is_f32(w) ? py::array(backward_input<float>(p, dy, w, algo)) : py::array(backward_input<double>(p, dy, w, algo));
      }, py::arg("params"), py::arg("grad_output"), py::arg("weight"), py::arg("algo") = "auto");
  m.def("backward_weight", [](const ConvParams& p, const py::array& x, const py::array& dy, const std::string& algo) -> py::array {
        return is_f32(x) ? py::array(backward_weight<float>(p, x, dy, algo)) : py::array(backward_weight<double>(p, x, dy, algo));
      }, py::arg("params"), py::arg("x"), py::arg("grad_output"), py::arg("algo") = "auto");
  m.def("backward_bias", [](const py::array& dy) -> py::array {
        return is_f32(dy) ? py::array(backward_bias<float>(dy)) : py::array(backward_bias<double>(dy));
      }, py::arg("grad_output"));
  m.def("explain", [](const ConvParams& p, const std::string& pass, const std::string& dtype, const std::string& algo) {
        if (dtype != "float32" && dtype != "float64")
          throw py::value_error("dtype='" + dtype + "' is not one of 'float32', 'float64'");
        auto c = convbp::explain(p, parse_pass(pass), dtype == "float32" ? convbp::DType::F32 : convbp::DType::F64, algo);
        py::dict d;
        d["route"] = c.route;
        d["isa"] = c.isa;
        d["reason"] = c.reason;
        d["refused"] = c.refused;
        return d;
      }, py::arg("params"), py::arg("pass_"), py::arg("dtype"), py::arg("algo") = "auto");
  m.def("route_names", &convbp::route_names);
}

}  // namespace convbp_py
