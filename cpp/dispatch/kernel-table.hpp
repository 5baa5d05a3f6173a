// The kernel table: one row of function pointers per ISA, the row for
// active_isa() chosen once. Drivers call kernels only through it.
#pragma once

#include <cstdint>
#include <type_traits>

#include "convbp/runtime.hpp"
#include "kernels/direct-args.hpp"
#include "kernels/kernels.hpp"

namespace convbp {

// A GEMM micro-kernel and its register block (contract: cpp/kernels/kernels.hpp).
template <typename T>
struct GemmUkernel {
  int mr, nr;
  void (*run)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t m, int64_t n, bool accumulate);
};

// The data-movement kernels of the im2col route (contracts: cpp/kernels/kernels.hpp).
template <typename T>
struct MoveKernels {
  void (*copy_runs)(const CopyRun* runs, int64_t n, const T* src, T* dst);
  void (*add_runs)(const CopyRun* runs, int64_t n, const T* src, T* dst);
  void (*transpose)(const T* src, int64_t lds, int64_t rows, int64_t cols, T* dst, int64_t ldd);
  void (*split_columns)(const T* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, T* dst, int64_t ldd,
                        int64_t phase_stride, int64_t width);
};

// The direct route's micro-kernels for one dtype (contracts: kernels/direct-args.hpp).
template <typename T>
struct DirectKernels {
  void (*rows)(const DirectRowsArgs<T>&);
  void (*dots)(const DirectDotsArgs<T>&);
  void (*plane_dots)(const DirectPlaneDotsArgs<T>&);
  void (*plane_rows)(const DirectPlaneRowsArgs<T>&);
  int cvec_lanes;  // channels per pixel vector of cvec_rows / cvec_dots
  void (*cvec_rows)(const DirectCvecArgs<T>&);
  void (*cvec_dots)(const DirectCvecArgs<T>&);
  int bcast_lanes;  // channels per vector of bcast_rows / bcast_dots
  void (*bcast_rows)(const DirectBcastArgs<T>&);
  void (*bcast_dots)(const DirectBcastArgs<T>&);
  void (*plane_expand)(const DirectPlaneExpandArgs<T>&);       // null where the ISA has none
  void (*plane_expand_dots)(const DirectPlaneExpandArgs<T>&);  // null where the ISA has none
  void (*plane_s2)(const DirectPlaneS2Args<T>&);                 // null where the ISA has none
};

struct KernelTable {
  Isa isa;
  float (*f32_fma_peak)(int64_t iters, float seed);
  int64_t f32_fma_peak_flops_per_iter;
  GemmUkernel<float> f32_gemm;
  GemmUkernel<double> f64_gemm;
  // A narrower tile where the ISA has one (else the same as the main kernel).
  GemmUkernel<float> f32_gemm_narrow;
  GemmUkernel<double> f64_gemm_narrow;
  MoveKernels<float> f32_move;
  MoveKernels<double> f64_move;

  template <typename T>
  const GemmUkernel<T>& gemm() const {
    if constexpr (std::is_same_v<T, float>) return f32_gemm; else return f64_gemm;
  }
  template <typename T>
  const GemmUkernel<T>& gemm_narrow() const {
    if constexpr (std::is_same_v<T, float>) return f32_gemm_narrow; else return f64_gemm_narrow;
  }
  // The kernel for a product with n columns: the one whose panels pad n the
  // least, counting the narrow kernel's work 3% dearer (it loads more per FMA).
  template <typename T>
  const GemmUkernel<T>& gemm_for(int64_t n) const {
    const GemmUkernel<T>&a = gemm<T>(), &b = gemm_narrow<T>();
    const double wa = double((n + a.nr - 1) / a.nr * a.nr), wb = 1.03 * double((n + b.nr - 1) / b.nr * b.nr);
    return wb < wa ? b : a;
  }
  template <typename T>
  const MoveKernels<T>& move() const {
    if constexpr (std::is_same_v<T, float>) return f32_move; else return f64_move;
  }
  // The direct route's kernels.
  DirectKernels<float> f32_direct;
  DirectKernels<double> f64_direct;
  template <typename T>
  const DirectKernels<T>& direct() const {
    if constexpr (sizeof(T) == 4) return f32_direct; else return f64_direct;
  }
};

const KernelTable& kernel_table();                // the active ISA's row
const KernelTable& kernel_table_for(Isa isa);     // any row (tests)

}  // namespace convbp
