// Packing op(A) and op(B) blocks into the contiguous micro-panels the
// micro-kernel reads (layouts in gemm.hpp). The copies are written so the
// compiler vectorizes the contiguous side: rows of A or B are read
// contiguously when not transposed, and the panel is written contiguously.
#include <cstring>

#include "drivers/gemm.hpp"

namespace convbp {

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
  for (int64_t j0 = 0; j0 < nc; j0 += nr, Bp += int64_t(nr) * kc) {
    const int64_t cols = nc - j0 < nr ? nc - j0 : nr;
    if (trans) {
      for (int64_t j = 0; j < cols; ++j) {
        const T* src = B + (j0 + j) * ldb;
        for (int64_t p = 0; p < kc; ++p) Bp[p * nr + j] = src[p];
      }
      for (int64_t j = cols; j < nr; ++j)
        for (int64_t p = 0; p < kc; ++p) Bp[p * nr + j] = T(0);
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        T* dst = Bp + p * nr;
        std::memcpy(dst, B + p * ldb + j0, size_t(cols) * sizeof(T));
        for (int64_t j = cols; j < nr; ++j) dst[j] = T(0);
      }
    }
  }
}

template void pack_a<float>(int, bool, const float*, int64_t, int64_t, int64_t, float*);
template void pack_a<double>(int, bool, const double*, int64_t, int64_t, int64_t, double*);
template void pack_b<float>(int, bool, const float*, int64_t, int64_t, int64_t, float*);
template void pack_b<double>(int, bool, const double*, int64_t, int64_t, int64_t, double*);

}  // namespace convbp
