// The kernel table: one row of function pointers per ISA, the row for
// active_isa() chosen once. Drivers call kernels only through it.
#pragma once

#include <cstdint>
#include <type_traits>

#include "convbp/runtime.hpp"

namespace convbp {

// A GEMM micro-kernel and its register block (contract: cpp/kernels/kernels.hpp).
template <typename T>
struct GemmUkernel {
  int mr, nr;
  void (*run)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t m, int64_t n, bool accumulate);
};

struct KernelTable {
  Isa isa;
  float (*f32_fma_peak)(int64_t iters, float seed);
  int64_t f32_fma_peak_flops_per_iter;
  GemmUkernel<float> f32_gemm;
  GemmUkernel<double> f64_gemm;

  template <typename T>
  const GemmUkernel<T>& gemm() const {
    if constexpr (std::is_same_v<T, float>) return f32_gemm; else return f64_gemm;
  }
};

const KernelTable& kernel_table();                // the active ISA's row
const KernelTable& kernel_table_for(Isa isa);     // any row (tests)

}  // namespace convbp
