#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "convbp's compiled kernels. Use the public API in convbp, not this module.";
  convbp_py::register_params(m);
  convbp_py::register_conv(m);
  convbp_py::register_runtime(m);
  convbp_py::register_gemm(m);
  convbp_py::register_pool(m);
}
