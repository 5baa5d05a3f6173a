// One registration function per concept; module.cpp calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace convbp_py {
void register_params(pybind11::module_& m);
void register_conv(pybind11::module_& m);
void register_runtime(pybind11::module_& m);
void register_gemm(pybind11::module_& m);
void register_pool(pybind11::module_& m);
}  // namespace convbp_py
