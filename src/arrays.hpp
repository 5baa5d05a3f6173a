// Array checks shared by the bindings: a binding's own preconditions, so a direct
// caller of _core gets a ValueError naming the argument, never a crash.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace convbp_py {

inline std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << (s.size() == 1 ? ",)" : ")");
  return os.str();
}

// The data of `a` if it is a C-contiguous native-endian T array of exactly `shape`.
template <typename T>
const T* checked(const pybind11::array& a, const char* name, const std::vector<int64_t>& shape) {
  if (!pybind11::isinstance<pybind11::array_t<T, pybind11::array::c_style>>(a))
    throw pybind11::value_error(std::string(name) + " must be a C-contiguous native-endian " +
                                std::string(pybind11::str(pybind11::dtype::of<T>())) + " array");
  std::vector<int64_t> got(a.shape(), a.shape() + a.ndim());
  if (got != shape)
    throw pybind11::value_error(std::string(name) + " has shape " + shape_str(got) + ", expected " +
                                shape_str(shape));
  return static_cast<const T*>(a.data());
}

}  // namespace convbp_py
