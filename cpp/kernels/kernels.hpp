// Declarations of every micro-kernel, one namespace per ISA. Each ISA directory
// is compiled with its own flags (CMakeLists.txt), so its symbols live in their
// own namespace and are only reached through the kernel table after cpuid.
#pragma once

#include <cstdint>

#include "kernels/direct-args.hpp"

namespace convbp {

#define CONVBP_DECLARE_ISA_KERNELS(ns)                                                   \
  namespace ns {                                                                         \
  /* f32-fma-peak-<isa>.cpp: a loop of independent FMAs, for peak_gflops. */             \
  float f32_fma_peak(int64_t iters, float seed);                                         \
  extern const int64_t f32_fma_peak_flops_per_iter;                                      \
  /* --- direct route (branch direct); contracts: kernels/direct-args.hpp --- */         \
  /* <t>-direct-rows-<isa>.cpp: forward / backward-input rows of taps. */                \
  void f32_direct_rows(const DirectRowsArgs<float>& a);                                  \
  void f64_direct_rows(const DirectRowsArgs<double>& a);                                 \
  /* <t>-direct-dots-<isa>.cpp: backward-weight dot products of rows of taps. */         \
  void f32_direct_dots(const DirectDotsArgs<float>& a);                                  \
  void f64_direct_dots(const DirectDotsArgs<double>& a);                                 \
  }

CONVBP_DECLARE_ISA_KERNELS(generic)
CONVBP_DECLARE_ISA_KERNELS(avx2)
CONVBP_DECLARE_ISA_KERNELS(avx512)

#undef CONVBP_DECLARE_ISA_KERNELS

}  // namespace convbp
