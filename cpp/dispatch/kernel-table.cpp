#include "dispatch/kernel-table.hpp"

#include "kernels/kernels.hpp"

namespace convbp {

namespace {

const KernelTable kTables[] = {
    {Isa::Generic, generic::f32_fma_peak, generic::f32_fma_peak_flops_per_iter,
     /* direct */ {generic::f32_direct_rows, generic::f32_direct_dots}, {generic::f64_direct_rows, generic::f64_direct_dots}},
    {Isa::Avx2, avx2::f32_fma_peak, avx2::f32_fma_peak_flops_per_iter,
     /* direct */ {avx2::f32_direct_rows, avx2::f32_direct_dots}, {avx2::f64_direct_rows, avx2::f64_direct_dots}},
    {Isa::Avx512, avx512::f32_fma_peak, avx512::f32_fma_peak_flops_per_iter,
     /* direct */ {avx512::f32_direct_rows, avx512::f32_direct_dots}, {avx512::f64_direct_rows, avx512::f64_direct_dots}},
};

}  // namespace

const KernelTable& kernel_table_for(Isa isa) { return kTables[static_cast<int>(isa)]; }

const KernelTable& kernel_table() {
  static const KernelTable& t = kernel_table_for(active_isa());
  return t;
}

}  // namespace convbp
