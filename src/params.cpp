// ConvParams in Python: built by convbp._args from normalized arguments; its
// validate() raises ValueError (pybind11 maps std::invalid_argument to it).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "convbp/params.hpp"

namespace py = pybind11;

namespace convbp_py {

void register_params(py::module_& m) {
  using convbp::ConvParams;
  py::class_<ConvParams>(m, "ConvParams")
      .def(py::init([](int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                       int64_t groups, int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                       int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right,
                       int spatial_dims) {
             ConvParams p;
             p.N = N; p.C = C; p.H = H; p.W = W; p.K = K; p.R = R; p.S = S; p.groups = groups;
             p.stride_h = stride_h; p.stride_w = stride_w; p.dil_h = dil_h; p.dil_w = dil_w;
             p.pad_top = pad_top; p.pad_bottom = pad_bottom; p.pad_left = pad_left; p.pad_right = pad_right;
             p.spatial_dims = spatial_dims;
             return p;
           }),
           py::kw_only(), py::arg("N"), py::arg("C"), py::arg("H"), py::arg("W"), py::arg("K"), py::arg("R"),
           py::arg("S"), py::arg("groups") = 1, py::arg("stride_h") = 1, py::arg("stride_w") = 1,
           py::arg("dil_h") = 1, py::arg("dil_w") = 1, py::arg("pad_top") = 0, py::arg("pad_bottom") = 0,
           py::arg("pad_left") = 0, py::arg("pad_right") = 0, py::arg("spatial_dims") = 2)
      .def_readonly("N", &ConvParams::N).def_readonly("C", &ConvParams::C)
      .def_readonly("H", &ConvParams::H).def_readonly("W", &ConvParams::W)
      .def_readonly("K", &ConvParams::K).def_readonly("R", &ConvParams::R)
      .def_readonly("S", &ConvParams::S).def_readonly("groups", &ConvParams::groups)
      .def_readonly("stride_h", &ConvParams::stride_h).def_readonly("stride_w", &ConvParams::stride_w)
      .def_readonly("dil_h", &ConvParams::dil_h).def_readonly("dil_w", &ConvParams::dil_w)
      .def_readonly("pad_top", &ConvParams::pad_top).def_readonly("pad_bottom", &ConvParams::pad_bottom)
      .def_readonly("pad_left", &ConvParams::pad_left).def_readonly("pad_right", &ConvParams::pad_right)
      .def_readonly("spatial_dims", &ConvParams::spatial_dims)
      .def_property_readonly("P", &ConvParams::P)
      .def_property_readonly("Q", &ConvParams::Q)
      .def_property_readonly("flops", &ConvParams::flops)
      .def("validate", &ConvParams::validate)
      .def("__repr__", &ConvParams::to_string);
}

}  // namespace convbp_py
