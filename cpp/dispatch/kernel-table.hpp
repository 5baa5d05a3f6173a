// The kernel table: one row of function pointers per ISA, the row for
// active_isa() chosen once. Drivers call kernels only through it.
#pragma once

#include <cstdint>

#include "convbp/runtime.hpp"

namespace convbp {

struct KernelTable {
  Isa isa;
  float (*f32_fma_peak)(int64_t iters, float seed);
  int64_t f32_fma_peak_flops_per_iter;
};

const KernelTable& kernel_table();                // the active ISA's row
const KernelTable& kernel_table_for(Isa isa);     // any row (tests)

}  // namespace convbp
