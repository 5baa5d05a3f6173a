#include "dispatch/kernel-table.hpp"

#include "kernels/kernels.hpp"

namespace convbp {

namespace {

const KernelTable kTables[] = {
    {Isa::Generic, generic::f32_fma_peak, generic::f32_fma_peak_flops_per_iter},
    {Isa::Avx2, avx2::f32_fma_peak, avx2::f32_fma_peak_flops_per_iter},
    {Isa::Avx512, avx512::f32_fma_peak, avx512::f32_fma_peak_flops_per_iter},
};

}  // namespace

const KernelTable& kernel_table_for(Isa isa) { return kTables[static_cast<int>(isa)]; }

const KernelTable& kernel_table() {
  static const KernelTable& t = kernel_table_for(active_isa());
  return t;
}

}  // namespace convbp
