// The kernel table: one row of function pointers per ISA, the row for
// active_isa() chosen once. Drivers call kernels only through it.
#pragma once

#include <cstdint>

#include "convbp/runtime.hpp"
#include "kernels/direct-args.hpp"

namespace convbp {

// The direct route's two micro-kernels for one dtype (contracts: kernels/direct-args.hpp).
template <typename T>
struct DirectKernels {
  void (*rows)(const DirectRowsArgs<T>&);
  void (*dots)(const DirectDotsArgs<T>&);
};

struct KernelTable {
  Isa isa;
  float (*f32_fma_peak)(int64_t iters, float seed);
  int64_t f32_fma_peak_flops_per_iter;
  // --- direct route (branch direct) ---
  DirectKernels<float> f32_direct;
  DirectKernels<double> f64_direct;
  template <typename T>
  const DirectKernels<T>& direct() const {
    if constexpr (sizeof(T) == 4) return f32_direct; else return f64_direct;
  }
  // --- end direct route ---
};

const KernelTable& kernel_table();                // the active ISA's row
const KernelTable& kernel_table_for(Isa isa);     // any row (tests)

}  // namespace convbp
