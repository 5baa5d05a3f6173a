// Declarations of every micro-kernel, one namespace per ISA. Each ISA directory
// is compiled with its own flags (CMakeLists.txt), so its symbols live in their
// own namespace and are only reached through the kernel table after cpuid.
//
// The GEMM micro-kernel contract (the BLIS register block), for T = float, double:
//
//   void <t>_gemm_ukernel(kc, a, b, c, ldc, m, n, accumulate)
//
//   computes the MR x NR product  acc = A_panel * B_panel  of a packed A micro-panel
//   (kc columns of MR values: a[p*MR + i] = A(i, p)) and a packed B micro-panel
//   (kc rows of NR values: b[p*NR + j] = B(p, j)), then for i < m, j < n writes
//       c[i*ldc + j] = acc(i, j)                     (accumulate == false)
//       c[i*ldc + j] = c[i*ldc + j] + acc(i, j)      (accumulate == true)
//   with 1 <= m <= MR, 1 <= n <= NR, kc >= 0 (kc == 0 gives acc = 0). Elements of C
//   outside the m x n tile are never read or written; with accumulate == false C is
//   never read (it may be uninitialized). The panels hold exactly kc*MR and kc*NR
//   values; packers zero-fill rows >= m / columns >= n (their results are
//   discarded). MR (<t>_gemm_mr) and NR (<t>_gemm_nr) are per ISA and dtype; file
//   names carry them: f32-gemm-8x48-avx512.cpp.
//
// The data-movement kernels the im2col route packs with (cpp/drivers/im2col-pack.cpp):
//
//   CopyRun {dst, src, len, step}: one run of a precomputed plan.
//   <t>_copy_runs(runs, n, src, dst): for each run, for i < len:
//       dst[run.dst + i] = run.step > 0 ? src[run.src + i*run.step] : 0
//   <t>_add_runs(runs, n, src, dst): for each run (step >= 1), for i < len:
//       dst[run.dst + i*run.step] += src[run.src + i]
//   <t>_transpose(src, lds, rows, cols, dst, ldd): for i < rows, j < cols:
//       dst[j*ldd + i] = src[i*lds + j]
//   <t>_split_columns(src, lds, rows, cols, step, dst, ldd, phase_stride, width):
//       for i < rows, f < min(step, cols), v < min(ceil((cols - f) / step), width):
//       dst[f*phase_stride + i*ldd + v] = src[i*lds + f + v*step]
//     (each row's columns split by phase: the stride phases of a strided conv).
//   Nothing outside those elements is read or written; runs may have len 0. Runs
//   of one call never overlap in dst (add_runs relies on it only for speed).
#pragma once

#include <cstdint>

#include "kernels/direct-args.hpp"

namespace convbp {

struct CopyRun {
  int64_t dst, src;
  int32_t len, step;
};

#define CONVBP_DECLARE_ISA_KERNELS(ns)                                                              \
  namespace ns {                                                                                    \
  /* f32-fma-peak-<isa>.cpp: a loop of independent FMAs, for peak_gflops. */                        \
  float f32_fma_peak(int64_t iters, float seed);                                                    \
  extern const int64_t f32_fma_peak_flops_per_iter;                                                 \
  /* f32-gemm-<MR>x<NR>-<isa>.cpp, f64-gemm-<MR>x<NR>-<isa>.cpp: the GEMM micro-kernels. */         \
  extern const int f32_gemm_mr, f32_gemm_nr, f64_gemm_mr, f64_gemm_nr;                              \
  void f32_gemm_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, \
                        int64_t n, bool accumulate);                                                \
  void f64_gemm_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc,        \
                        int64_t m, int64_t n, bool accumulate);                                     \
  /* copy-runs-<isa>.cpp, add-runs-<isa>.cpp, transpose-<isa>.cpp */                         \
  void f32_copy_runs(const CopyRun* runs, int64_t n, const float* src, float* dst);                 \
  void f64_copy_runs(const CopyRun* runs, int64_t n, const double* src, double* dst);               \
  void f32_add_runs(const CopyRun* runs, int64_t n, const float* src, float* dst);                  \
  void f64_add_runs(const CopyRun* runs, int64_t n, const double* src, double* dst);                \
  void f32_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,         \
                     int64_t ldd);                                                                  \
  /* split-columns-<isa>.cpp */                                                                     \
  void f32_split_columns(const float* src, int64_t lds, int64_t rows, int64_t cols, int64_t step,    \
                         float* dst, int64_t ldd, int64_t phase_stride, int64_t width);             \
  void f64_split_columns(const double* src, int64_t lds, int64_t rows, int64_t cols, int64_t step,   \
                         double* dst, int64_t ldd, int64_t phase_stride, int64_t width);            \
  void f64_transpose(const double* src, int64_t lds, int64_t rows, int64_t cols, double* dst,       \
                     int64_t ldd);                                                                  \
  /* <t>-direct-rows-<isa>.cpp: forward / backward-input rows of taps (kernels/direct-args.hpp). */ \
  void f32_direct_rows(const DirectRowsArgs<float>& a);                                             \
  void f64_direct_rows(const DirectRowsArgs<double>& a);                                            \
  /* <t>-direct-dots-<isa>.cpp: backward-weight dot products of rows of taps. */                    \
  void f32_direct_dots(const DirectDotsArgs<float>& a);                                             \
  void f64_direct_dots(const DirectDotsArgs<double>& a);                                            \
  /* <t>-direct-plane-dots-<isa>.cpp: depthwise backward-weight, all taps of a channel. */           \
  void f32_direct_plane_dots(const DirectPlaneDotsArgs<float>& a);                                  \
  void f64_direct_plane_dots(const DirectPlaneDotsArgs<double>& a);                                 \
  /* <t>-direct-plane-rows-<isa>.cpp: depthwise forward / backward-input, a channel's taps. */       \
  void f32_direct_plane_rows(const DirectPlaneRowsArgs<float>& a);                                  \
  void f64_direct_plane_rows(const DirectPlaneRowsArgs<double>& a);                                 \
  /* <t>-direct-cvec-<isa>.cpp: depthwise on small planes, channels in the lanes. */                \
  extern const int f32_direct_cvec_lanes, f64_direct_cvec_lanes;                                   \
  void f32_direct_cvec_rows(const DirectCvecArgs<float>& a);                                        \
  void f64_direct_cvec_rows(const DirectCvecArgs<double>& a);                                       \
  void f32_direct_cvec_dots(const DirectCvecArgs<float>& a);                                        \
  void f64_direct_cvec_dots(const DirectCvecArgs<double>& a);                                       \
  /* <t>-direct-bcast-<isa>.cpp: grouped, a group's channels in the lanes, inputs broadcast. */      \
  extern const int f32_direct_bcast_lanes, f64_direct_bcast_lanes;                                 \
  void f32_direct_bcast_rows(const DirectBcastArgs<float>& a);                                      \
  void f64_direct_bcast_rows(const DirectBcastArgs<double>& a);                                     \
  void f32_direct_bcast_dots(const DirectBcastArgs<float>& a);                                      \
  void f64_direct_bcast_dots(const DirectBcastArgs<double>& a);                                     \
  }

CONVBP_DECLARE_ISA_KERNELS(generic)
CONVBP_DECLARE_ISA_KERNELS(avx2)
CONVBP_DECLARE_ISA_KERNELS(avx512)

// AVX-512 also has narrower GEMM tiles (f32-gemm-8x32, f64-gemm-8x16): N = 64*k
// fits 32-wide panels exactly where 48-wide ones waste a third. The other ISAs'
// tiles are already narrow; their table rows reuse the main kernel.
namespace avx512 {
extern const int f32_gemm_narrow_mr, f32_gemm_narrow_nr, f64_gemm_narrow_mr, f64_gemm_narrow_nr;
void f32_gemm_narrow_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                             bool accumulate);
void f64_gemm_narrow_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int64_t m,
                             int64_t n, bool accumulate);
}  // namespace avx512

// <t>-direct-plane-expand-<isa>.cpp: depthwise rows (backward-input form) and dots
// (backward-weight), dy expanded by lane permutes (kernels/direct-plane-expand.inl). AVX-512 only: with AVX2's
// vmaskmov loads and blendv merges it ran 1.4-2.7x slower than the channel-vector
// kernels it would replace (MobileNet's 3x3 stride-2 layers, batch 1 and 8, this
// machine), so the other rows of the table have none.
namespace avx512 {
void f32_direct_plane_expand(const DirectPlaneExpandArgs<float>& a);
void f64_direct_plane_expand(const DirectPlaneExpandArgs<double>& a);
void f32_direct_plane_expand_dots(const DirectPlaneExpandArgs<float>& a);
void f64_direct_plane_expand_dots(const DirectPlaneExpandArgs<double>& a);
}  // namespace avx512

// <t>-direct-plane-s2-<isa>.cpp: the forward pass of depthwise layers with column
// stride 2 and 3 kernel columns (kernels/direct-plane-s2.inl), the columns split
// into even and odd in registers by lane permutes. AVX-512 only (two-source
// permutes over a whole vector).
namespace avx512 {
void f32_direct_plane_s2(const DirectPlaneS2Args<float>& a);
void f64_direct_plane_s2(const DirectPlaneS2Args<double>& a);
}  // namespace avx512

#undef CONVBP_DECLARE_ISA_KERNELS

}  // namespace convbp
