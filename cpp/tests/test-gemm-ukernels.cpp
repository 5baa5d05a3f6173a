// Every GEMM micro-kernel of every ISA this CPU runs, alone, over every edge tile:
// m in 1..MR, n in 1..2*NR (n > NR as two calls side by side, the way the
// drivers tile), k in {0, 1, 2 and primes}, accumulate off and on. Inputs are
// small integers, so every float result is exact and compared with ==. The
// panels' padding rows/columns hold NaN and C has a guard frame: a kernel that
// leaks padding, reads C when told not to (C starts as NaN then) or writes
// outside its m x n tile fails loudly.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "check.hpp"
#include "dispatch/kernel-table.hpp"

using namespace convbp;

namespace {

constexpr double kGuard = 12345.0;

// Deterministic small integers in [-4, 4].
struct Ints {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  int next() {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return int(s % 9) - 4;
  }
};

template <typename T>
void sweep(const GemmUkernel<T>& uk, const char* isa, const char* dt) {
  const int MR = uk.mr, NR = uk.nr;
  const int64_t ks[] = {0, 1, 2, 3, 5, 7, 13, 31, 97, 257};
  Ints rnd;
  for (int64_t kc : ks) {
    // Two panels side by side for n up to 2*NR.
    std::vector<T> a(size_t(kc * MR) + 1), b0(size_t(kc * NR) + 1), b1(size_t(kc * NR) + 1);
    std::vector<int> ai(a.size()), bi0(b0.size()), bi1(b1.size());
    for (auto& v : ai) v = rnd.next();
    for (auto& v : bi0) v = rnd.next();
    for (auto& v : bi1) v = rnd.next();
    for (int m = 1; m <= MR; ++m) {
      for (int n = 1; n <= 2 * NR; ++n) {
        const int n0 = n < NR ? n : NR, n1 = n - n0;
        for (int p = 0; p < kc; ++p) {
          for (int i = 0; i < MR; ++i) a[p * MR + i] = i < m ? T(ai[p * MR + i]) : T(NAN);
          for (int j = 0; j < NR; ++j) {
            b0[p * NR + j] = j < n0 ? T(bi0[p * NR + j]) : T(NAN);
            b1[p * NR + j] = j < n1 ? T(bi1[p * NR + j]) : T(NAN);
          }
        }
        for (int accumulate = 0; accumulate < 2; ++accumulate) {
          // C: (MR + 2) x ldc with the tile at row 1, column 3; ldc leaves a
          // guard column on the right of the widest tile.
          const int64_t ldc = 2 * NR + 5;
          std::vector<T> c(size_t((MR + 2) * ldc), T(kGuard));
          T* tile = c.data() + ldc + 3;
          for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) tile[i * ldc + j] = accumulate ? T((i * 7 + j) % 11 - 5) : T(NAN);
          uk.run(kc, a.data(), b0.data(), tile, ldc, m, n0, accumulate);
          if (n1 > 0) uk.run(kc, a.data(), b1.data(), tile + NR, ldc, m, n1, accumulate);
          for (int64_t r = 0; r < MR + 2; ++r) {
            for (int64_t col = 0; col < ldc; ++col) {
              const int64_t i = r - 1, j = col - 3;
              const T got = c[r * ldc + col];
              if (i < 0 || i >= m || j < 0 || j >= n) {
                CHECK(got == T(kGuard), "%s %s kc=%ld m=%d n=%d acc=%d: wrote outside the tile at (%ld,%ld)", isa,
                      dt, long(kc), m, n, accumulate, long(i), long(j));
                continue;
              }
              double want = accumulate ? double((i * 7 + j) % 11 - 5) : 0.0;
              for (int64_t p = 0; p < kc; ++p) {
                const int bv = j < NR ? bi0[p * NR + j] : bi1[p * NR + (j - NR)];
                want += double(ai[p * MR + i]) * double(bv);
              }
              CHECK(double(got) == want, "%s %s kc=%ld m=%d n=%d acc=%d: c(%ld,%ld)=%g, want %g", isa, dt, long(kc),
                    m, n, accumulate, long(i), long(j), double(got), want);
            }
          }
        }
      }
    }
  }
}

}  // namespace

int main() {
  convbp_test::for_each_runnable_isa([&](Isa isa, const KernelTable& kt) {
    std::printf("%s: f32 %dx%d (narrow %dx%d), f64 %dx%d (narrow %dx%d)\n", isa_name(isa), kt.f32_gemm.mr,
                kt.f32_gemm.nr, kt.f32_gemm_narrow.mr, kt.f32_gemm_narrow.nr, kt.f64_gemm.mr, kt.f64_gemm.nr,
                kt.f64_gemm_narrow.mr, kt.f64_gemm_narrow.nr);
    sweep<float>(kt.f32_gemm, isa_name(isa), "f32");
    sweep<double>(kt.f64_gemm, isa_name(isa), "f64");
    if (kt.f32_gemm_narrow.run != kt.f32_gemm.run) sweep<float>(kt.f32_gemm_narrow, isa_name(isa), "f32 narrow");
    if (kt.f64_gemm_narrow.run != kt.f64_gemm.run) sweep<double>(kt.f64_gemm_narrow, isa_name(isa), "f64 narrow");
  });
  return convbp_test::test_exit_code("test-gemm-ukernels");
}
