// FMA-throughput loop for peak_gflops on the baseline ISA (SSE2: no FMA, so a
// multiply and an add per lane; 16 independent accumulators hide the latency).
#include <cstdint>

namespace convbp::generic {

typedef float v4f __attribute__((vector_size(16)));
constexpr int kAcc = 16;
extern const int64_t f32_fma_peak_flops_per_iter = kAcc * 4 * 2;

float f32_fma_peak(int64_t iters, float seed) {
  v4f acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = v4f{seed, seed, seed, seed} * (1.0f + 1e-3f * i);
  const v4f a = {0.999999f, 0.999999f, 0.999999f, 0.999999f};
  const v4f b = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kAcc; ++i) acc[i] = acc[i] * a + b;
    __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
  }
  v4f s = acc[0];
  for (int i = 1; i < kAcc; ++i) s += acc[i];
  return s[0] + s[1] + s[2] + s[3];
}

}  // namespace convbp::generic
