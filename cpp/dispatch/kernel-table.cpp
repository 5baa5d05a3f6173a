#include "dispatch/kernel-table.hpp"

#include "kernels/kernels.hpp"

namespace convbp {

#define CONVBP_ROW(isa_enum, ns, f32_narrow, f64_narrow, f32_expand, f64_expand, f32_expand_dots, f64_expand_dots, \
                   f32_s2, f64_s2)                                                                                   \
  KernelTable {                                                                    \
    isa_enum, ns::f32_fma_peak, ns::f32_fma_peak_flops_per_iter,                   \
        {ns::f32_gemm_mr, ns::f32_gemm_nr, ns::f32_gemm_ukernel},                  \
        {ns::f64_gemm_mr, ns::f64_gemm_nr, ns::f64_gemm_ukernel},                  \
        {ns::f32_narrow##_mr, ns::f32_narrow##_nr, ns::f32_narrow##_ukernel},      \
        {ns::f64_narrow##_mr, ns::f64_narrow##_nr, ns::f64_narrow##_ukernel},      \
        {ns::f32_copy_runs, ns::f32_add_runs, ns::f32_transpose, ns::f32_split_columns}, \
        {ns::f64_copy_runs, ns::f64_add_runs, ns::f64_transpose, ns::f64_split_columns}, \
        {ns::f32_direct_rows, ns::f32_direct_dots, ns::f32_direct_plane_dots, ns::f32_direct_plane_rows, \
         ns::f32_direct_cvec_lanes, ns::f32_direct_cvec_rows, ns::f32_direct_cvec_dots,                   \
         ns::f32_direct_bcast_lanes, ns::f32_direct_bcast_rows, ns::f32_direct_bcast_dots, f32_expand, f32_expand_dots, f32_s2}, \
        {ns::f64_direct_rows, ns::f64_direct_dots, ns::f64_direct_plane_dots, ns::f64_direct_plane_rows, \
         ns::f64_direct_cvec_lanes, ns::f64_direct_cvec_rows, ns::f64_direct_cvec_dots,                   \
         ns::f64_direct_bcast_lanes, ns::f64_direct_bcast_rows, ns::f64_direct_bcast_dots, f64_expand, f64_expand_dots, f64_s2}, \
  }

const KernelTable& kernel_table_for(Isa isa) {
  // Function-local: built on first use, after the kernels' constants exist.
  static const KernelTable tables[] = {
      CONVBP_ROW(Isa::Generic, generic, f32_gemm, f64_gemm, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
      CONVBP_ROW(Isa::Avx2, avx2, f32_gemm, f64_gemm, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
      CONVBP_ROW(Isa::Avx512, avx512, f32_gemm_narrow, f64_gemm_narrow, avx512::f32_direct_plane_expand,
                 avx512::f64_direct_plane_expand, avx512::f32_direct_plane_expand_dots,
                 avx512::f64_direct_plane_expand_dots, avx512::f32_direct_plane_s2, avx512::f64_direct_plane_s2),
  };
  return tables[static_cast<int>(isa)];
}

#undef CONVBP_ROW

const KernelTable& kernel_table() {
  static const KernelTable& t = kernel_table_for(active_isa());
  return t;
}

}  // namespace convbp
