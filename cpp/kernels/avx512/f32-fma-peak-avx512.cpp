// FMA-throughput loop for peak_gflops with AVX-512: 16 independent zmm
// accumulators cover 2 FMA pipes x 4 cycles of latency with room to spare.
#include <immintrin.h>

#include <cstdint>

namespace convbp::avx512 {

constexpr int kAcc = 16;
extern const int64_t f32_fma_peak_flops_per_iter = kAcc * 16 * 2;

float f32_fma_peak(int64_t iters, float seed) {
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_ps(seed * (1.0f + 1e-3f * i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  return out[0] + out[15];
}

}  // namespace convbp::avx512
