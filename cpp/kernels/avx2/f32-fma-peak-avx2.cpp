// FMA-throughput loop for peak_gflops with AVX2+FMA: 12 independent ymm
// accumulators cover 2 FMA pipes x 4-5 cycles of latency.
#include <immintrin.h>

#include <cstdint>

namespace convbp::avx2 {

constexpr int kAcc = 12;
extern const int64_t f32_fma_peak_flops_per_iter = kAcc * 8 * 2;

float f32_fma_peak(int64_t iters, float seed) {
  __m256 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_ps(seed * (1.0f + 1e-3f * i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}

}  // namespace convbp::avx2
