// The data-movement kernels in plain C++ for both dtypes (contracts in
// cpp/kernels/kernels.hpp): runs of copies/zeros/adds and transposes.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/kernels.hpp"

namespace convbp::generic {

template <typename T>
inline void copy_runs(const CopyRun* runs, int64_t n, const T* src, T* dst) {
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun& run = runs[r];
    T* d = dst + run.dst;
    if (run.step <= 0) {
      for (int32_t i = 0; i < run.len; ++i) d[i] = T(0);
    } else if (run.step == 1) {
      if (run.len > 0) std::memcpy(d, src + run.src, size_t(run.len) * sizeof(T));
    } else {
      const T* s = src + run.src;
      for (int32_t i = 0; i < run.len; ++i) d[i] = s[int64_t(i) * run.step];
    }
  }
}

template <typename T>
inline void add_runs(const CopyRun* runs, int64_t n, const T* src, T* dst) {
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun& run = runs[r];
    T* d = dst + run.dst;
    const T* s = src + run.src;
    for (int32_t i = 0; i < run.len; ++i) d[int64_t(i) * run.step] += s[i];
  }
}

template <typename T>
inline void transpose(const T* src, int64_t lds, int64_t rows, int64_t cols, T* dst, int64_t ldd) {
  for (int64_t i = 0; i < rows; ++i) {
    const T* s = src + i * lds;
    for (int64_t j = 0; j < cols; ++j) dst[j * ldd + i] = s[j];
  }
}

}  // namespace convbp::generic
