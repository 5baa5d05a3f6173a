// convbp._core.gemm(a, b, trans_a, trans_b) -> op(a) @ op(b) with convbp's own
// GEMM (cpp/drivers/gemm.hpp), op(m) = m.T when trans_m: for benchmarks and tests
// of the kernel the convolutions run on, and for convbp.nn.Linear. a and b are
// 2-D, C-contiguous, native-endian float32 or float64 arrays of one dtype,
// transposed by the packing (never copied); the result is a new (M, N) array.
// The GIL is released while it runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "dispatch/cache-sizes.hpp"
#include "drivers/gemm.hpp"

namespace py = pybind11;

namespace convbp_py {

namespace {

std::string describe(const py::array& a) {
  std::string s = "dtype " + std::string(py::str(a.dtype())) + ", shape (";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

template <typename T>
bool is_c_array(const py::array& a) {
  return py::isinstance<py::array_t<T, py::array::c_style>>(a) && a.ndim() == 2;
}

template <typename T>
py::array_t<T> run(const py::array& a, const py::array& b, bool ta, bool tb) {
  const int64_t M = a.shape(ta ? 1 : 0), K = a.shape(ta ? 0 : 1), N = b.shape(tb ? 0 : 1);
  const int64_t lda = a.shape(1) > 0 ? a.shape(1) : 1, ldb = b.shape(1) > 0 ? b.shape(1) : 1;
  if (b.shape(tb ? 1 : 0) != K)
    throw py::value_error("gemm: op(a) has shape (" + std::to_string(M) + ", " + std::to_string(K) +
                          ") and op(b) (" + std::to_string(b.shape(tb ? 1 : 0)) + ", " + std::to_string(N) +
                          "): their inner dimensions must agree");
  py::array_t<T> c({M, N});
  const T* ap = static_cast<const T*>(a.data());
  const T* bp = static_cast<const T*>(b.data());
  T* cp = c.mutable_data();
  {
    py::gil_scoped_release release;
    convbp::gemm<T>(ta, tb, M, N, K, ap, lda, bp, ldb, T(0), cp, N > 0 ? N : 1);
  }
  return c;
}

}  // namespace

void register_gemm(py::module_& m) {
  m.def("gemm", [](const py::array& a, const py::array& b, bool trans_a, bool trans_b) -> py::array {
        if (is_c_array<float>(a) && is_c_array<float>(b)) return run<float>(a, b, trans_a, trans_b);
        if (is_c_array<double>(a) && is_c_array<double>(b)) return run<double>(a, b, trans_a, trans_b);
        throw py::value_error("gemm: a and b must be 2-D C-contiguous native-endian arrays, both float32 or both "
                              "float64; got a " + describe(a) + " and b " + describe(b));
      }, py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
      "op(a) @ op(b) with convbp's GEMM, op(m) = m.T when trans_m (2-D C-contiguous float32/float64, one dtype).");
  m.def("gemm_config", [] {
        const convbp::KernelTable& kt = convbp::kernel_table();
        const convbp::CacheSizes& cs = convbp::cache_sizes();
        py::dict d;
        d["cache_l1d"] = cs.l1d;
        d["cache_l2"] = cs.l2;
        d["cache_l3"] = cs.l3;
        d["cache_source"] = cs.source;
        auto ker = [](const auto& uk) {
          const convbp::GemmBlocking b = convbp::gemm_blocking(uk);
          py::dict k;
          k["tile"] = std::to_string(uk.mr) + "x" + std::to_string(uk.nr);
          k["mc"] = b.mc;
          k["kc"] = b.kc;
          k["nc"] = b.nc;
          return k;
        };
        d["float32"] = ker(kt.f32_gemm);
        d["float64"] = ker(kt.f64_gemm);
        return d;
      }, "The active GEMM micro-kernel tiles (MR x NR), block sizes and the cache sizes they come from.");
}

}  // namespace convbp_py
