// The portable GEMM micro-kernel in plain C++, written once for both dtypes:
// an MR x NR tile of C accumulated in a local array the compiler keeps in
// registers (and vectorizes with the baseline SSE2). Contract:
// cpp/kernels/kernels.hpp (gemm micro-kernel).
#pragma once

#include <cstdint>

namespace convbp::generic {

template <typename T, int MR, int NR>
inline void gemm_ukernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t m, int64_t n,
                         bool accumulate) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
    a += MR;
    b += NR;
  }
  const int mm = m < MR ? int(m) : MR, nn = n < NR ? int(n) : NR;
  for (int i = 0; i < mm; ++i) {
    T* row = c + i * ldc;
    if (accumulate)
      for (int j = 0; j < nn; ++j) row[j] += acc[i][j];
    else
      for (int j = 0; j < nn; ++j) row[j] = acc[i][j];
  }
}

}  // namespace convbp::generic
