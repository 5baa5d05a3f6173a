// convbp's GEMM (no BLAS): the five loops of BLIS around the register-blocked
// micro-kernel of the active ISA (cpp/kernels/kernels.hpp has its contract).
// Everything here is ISA-free; only the micro-kernel changes per ISA.
//
// Matrices are row-major. op(A) is M x K (A itself when !transA, else A is K x M
// and op(A) = A^T), op(B) is K x N, C is M x N:
//     C = op(A) op(B)            beta == 0   (C is never read: it may be garbage)
//     C = op(A) op(B) + C        beta == 1   (accumulate, for reductions)
// Transposes are handled by the packing, so every case runs the same kernel.
//
// The loops (Goto/BLIS, with A's micro-panel the L1-resident operand):
//   ic (mc rows of op(A): the packed A block, shared by the team, L3)
//    pc (kc of the K dimension)
//      jc (nc columns: each thread packs its own B block, L2)
//        ir (MR rows: one packed A micro-panel, L1)
//          jr (NR columns: one B micro-panel streamed from L2) -> micro-kernel
// Threads split the M x N tile grid of each block into a tm x tn grid; each C
// element is computed by one thread with the same order of K blocks whatever
// the thread count, so results are bit-identical for any thread count.
#pragma once

#include <cstdint>

#include "dispatch/kernel-table.hpp"

namespace convbp {

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// A micro-panel from `rows` rows of a row-major source, transposed:
// dst[p*width + i] = src[i*ld + p] for i < rows, 0 for rows <= i < width; p < kc.
template <typename T>
inline void transpose_panel(const MoveKernels<T>& mv, const T* src, int64_t ld, int64_t rows, int64_t kc, int width,
                            T* dst) {
  mv.transpose(src, ld, rows, kc, dst, width);
  if (rows < width)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t i = rows; i < width; ++i) dst[p * width + i] = T(0);
}

// Block sizes of the loops above, in elements.
struct GemmBlocking {
  int64_t mc, kc, nc;
};

// Derived from the cache sizes of this machine (cpp/dispatch/cache-sizes.hpp)
// for micro-kernel `uk`: kc so an MR x kc A micro-panel fills about half of L1,
// nc so a kc x nc B block fills about half of L2, mc so the A block takes a
// quarter of L3. nc is a multiple of NR, mc of MR.
template <typename T>
GemmBlocking gemm_blocking(const GemmUkernel<T>& uk);

// Packs the mc x kc block of op(A) whose (0, 0) element is at A into panels of
// mr rows: Ap[(i/mr)*mr*kc + p*mr + i%mr] = op(A)(i, p); rows mc..round_up(mc, mr)
// are zero. op(A)(i, p) is A[p*lda + i] when trans, else A[i*lda + p].
template <typename T>
void pack_a(int mr, bool trans, const T* A, int64_t lda, int64_t mc, int64_t kc, T* Ap);

// Packs the kc x nc block of op(B) whose (0, 0) element is at B into panels of
// nr columns: Bp[(j/nr)*nr*kc + p*nr + j%nr] = op(B)(p, j); columns beyond nc are
// zero. op(B)(p, j) is B[j*ldb + p] when trans, else B[p*ldb + j].
template <typename T>
void pack_b(int nr, bool trans, const T* B, int64_t ldb, int64_t kc, int64_t nc, T* Bp);

// C (mc x nc, row stride ldc) = or += packed A (mc x kc) times packed B (kc x nc),
// one micro-kernel call per MR x NR tile, A micro-panels outer, B micro-panels inner.
template <typename T>
void macro_kernel(const GemmUkernel<T>& uk, int64_t mc, int64_t nc, int64_t kc, const T* Ap, const T* Bp, T* C,
                  int64_t ldc, bool accumulate);

// The GEMM with the active ISA's kernel, this machine's blocking and
// num_threads() threads. Throws std::invalid_argument for negative sizes, leading
// dimensions too small, beta other than 0 or 1, or null pointers.
template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

// The same with an explicit micro-kernel, blocking and thread count (tests, tuning).
template <typename T>
void gemm_with(const GemmUkernel<T>& uk, const GemmBlocking& blocking, int threads, bool transA, bool transB,
               int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
               int64_t ldc);

}  // namespace convbp
