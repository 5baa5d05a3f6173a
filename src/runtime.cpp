// Threads, ISA and build facts.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "convbp/runtime.hpp"

namespace py = pybind11;

namespace convbp_py {

void register_runtime(py::module_& m) {
  // Read CONVBP_ISA now, so a bad value fails the import with its message
  // instead of the first convolution.
  convbp::active_isa();
  m.def("set_num_threads", &convbp::set_num_threads, py::arg("n"));
  m.def("get_num_threads", &convbp::num_threads);
  m.def("active_isa", [] { return std::string(convbp::isa_name(convbp::active_isa())); });
  m.def("detected_isa", [] { return std::string(convbp::isa_name(convbp::detected_isa())); });
  m.def("compiler", &convbp::compiler_info);
  m.def("openmp", &convbp::openmp_info);
  m.def("release_workspace", &convbp::release_workspace);
  m.def("peak_gflops", [](int threads, double seconds) {
        py::gil_scoped_release release;
        return convbp::peak_gflops(threads, seconds);
      }, py::arg("threads"), py::arg("seconds") = 0.2);
}

}  // namespace convbp_py
