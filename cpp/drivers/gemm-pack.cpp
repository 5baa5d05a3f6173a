// Packing op(A) and op(B) blocks into the contiguous micro-panels the
// micro-kernel reads (layouts in gemm.hpp). The copies are written so the
// compiler vectorizes the contiguous side: rows of A or B are read
// contiguously when not transposed, and the panel is written contiguously.
#include <cstring>

#include "dispatch/kernel-table.hpp"
#include "drivers/gemm.hpp"

namespace convbp {

namespace {

// A full panel of MR rows of a row-major A: MR read streams, one contiguous write
// stream; with MR a constant the compiler unrolls the row loop into registers.
template <int MR, typename T>
void pack_a_rows(const T* A, int64_t lda, int64_t kc, T* Ap) {
  const T* src[MR];
  for (int i = 0; i < MR; ++i) src[i] = A + i * lda;
  for (int64_t p = 0; p < kc; ++p, Ap += MR)
    for (int i = 0; i < MR; ++i) Ap[i] = src[i][p];
}

}  // namespace

template <typename T>
void pack_a(int mr, bool trans, const T* A, int64_t lda, int64_t mc, int64_t kc, T* Ap) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr, Ap += int64_t(mr) * kc) {
    const int64_t rows = mc - i0 < mr ? mc - i0 : mr;
    if (trans) {
      // op(A)(i, p) = A[p*lda + i]: each panel row p is a contiguous run of A.
      for (int64_t p = 0; p < kc; ++p) {
        const T* src = A + p * lda + i0;
        T* dst = Ap + p * mr;
        for (int64_t i = 0; i < rows; ++i) dst[i] = src[i];
        for (int64_t i = rows; i < mr; ++i) dst[i] = T(0);
      }
    } else if (kc >= 16) {  // a transpose of mr rows: the ISA's in-register transposes
      transpose_panel(kernel_table().move<T>(), A + i0 * lda, lda, rows, kc, mr, Ap);
    } else if (rows == mr && (mr == 8 || mr == 6 || mr == 4)) {
      const T* src = A + i0 * lda;
      if (mr == 8) pack_a_rows<8>(src, lda, kc, Ap);
      else if (mr == 6) pack_a_rows<6>(src, lda, kc, Ap);
      else pack_a_rows<4>(src, lda, kc, Ap);
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        const T* src = A + (i0 + i) * lda;
        for (int64_t p = 0; p < kc; ++p) Ap[p * mr + i] = src[p];
      }
      for (int64_t i = rows; i < mr; ++i)
        for (int64_t p = 0; p < kc; ++p) Ap[p * mr + i] = T(0);
    }
  }
}

template <typename T>
void pack_b(int nr, bool trans, const T* B, int64_t ldb, int64_t kc, int64_t nc, T* Bp) {
  const int64_t panels = (nc + nr - 1) / nr, panel_size = int64_t(nr) * kc;
  if (!trans) {
    // Row p of the block is read once, left to right, and dealt to the panels:
    // one pass over each source row (few TLB pages live at a time).
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = B + p * ldb;
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t j0 = q * nr, cols = nc - j0 < nr ? nc - j0 : nr;
        T* dst = Bp + q * panel_size + p * nr;
        std::memcpy(dst, src + j0, size_t(cols) * sizeof(T));
        for (int64_t j = cols; j < nr; ++j) dst[j] = T(0);
      }
    }
    return;
  }
  for (int64_t q = 0; q < panels; ++q, Bp += panel_size) {
    const int64_t j0 = q * nr, cols = nc - j0 < nr ? nc - j0 : nr;
    if (kc >= 16) {  // a transpose of nr rows of B
      transpose_panel(kernel_table().move<T>(), B + j0 * ldb, ldb, cols, kc, nr, Bp);
      continue;
    }
    for (int64_t j = 0; j < cols; ++j) {
      const T* src = B + (j0 + j) * ldb;
      for (int64_t p = 0; p < kc; ++p) Bp[p * nr + j] = src[p];
    }
    for (int64_t j = cols; j < nr; ++j)
      for (int64_t p = 0; p < kc; ++p) Bp[p * nr + j] = T(0);
  }
}

template void pack_a<float>(int, bool, const float*, int64_t, int64_t, int64_t, float*);
template void pack_a<double>(int, bool, const double*, int64_t, int64_t, int64_t, double*);
template void pack_b<float>(int, bool, const float*, int64_t, int64_t, int64_t, float*);
template void pack_b<double>(int, bool, const double*, int64_t, int64_t, int64_t, double*);

}  // namespace convbp
