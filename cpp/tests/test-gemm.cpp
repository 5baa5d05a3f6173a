// The GEMM driver (cpp/drivers/gemm.cpp) against an exact reference, for every
// ISA row this CPU runs: both transposes of A and B, odd and prime sizes, sizes
// 1, K = 0, beta 0 (C starts as NaN, so any read of C shows) and 1, leading
// dimensions larger than the matrix (guard values there must survive), thread
// counts 1..3, and tiny block sizes so every loop runs many blocks and edge
// tiles, as well as the machine's own blocking. Integer inputs: exact results.
#include <cmath>
#include <stdexcept>
#include <string>
#include <cstdint>
#include <vector>

#include "check.hpp"
#include "drivers/gemm.hpp"

using namespace convbp;

namespace {

struct Ints {
  uint64_t s = 0x243F6A8885A308D3ull;
  int next() {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return int(s % 7) - 3;
  }
};

constexpr double kGuard = -777.0;

template <typename T>
void one(const GemmUkernel<T>& uk, const GemmBlocking& bl, int threads, bool ta, bool tb, int64_t M, int64_t N,
         int64_t K, int beta, const char* what) {
  Ints rnd;
  const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
  std::vector<T> A(size_t((ta ? K : M) * lda) + 1, T(kGuard)), B(size_t((tb ? N : K) * ldb) + 1, T(kGuard));
  std::vector<int> a(size_t(M * K)), b(size_t(K * N));  // op(A) row-major, op(B) row-major
  for (int64_t i = 0; i < M; ++i)
    for (int64_t p = 0; p < K; ++p) {
      a[i * K + p] = rnd.next();
      (ta ? A[p * lda + i] : A[i * lda + p]) = T(a[i * K + p]);
    }
  for (int64_t p = 0; p < K; ++p)
    for (int64_t j = 0; j < N; ++j) {
      b[p * N + j] = rnd.next();
      (tb ? B[j * ldb + p] : B[p * ldb + j]) = T(b[p * N + j]);
    }
  std::vector<T> C(size_t(M * ldc) + 1, T(kGuard));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta ? T((i + 2 * j) % 5 - 2) : T(NAN);
  gemm_with<T>(uk, bl, threads, ta, tb, M, N, K, A.data(), lda, B.data(), ldb, T(beta), C.data(), ldc);
  int bad = 0;
  for (int64_t i = 0; i < M && bad < 3; ++i)
    for (int64_t j = 0; j < ldc && bad < 3; ++j) {
      double want = kGuard;
      if (j < N) {
        want = beta ? double((i + 2 * j) % 5 - 2) : 0.0;
        for (int64_t p = 0; p < K; ++p) want += double(a[i * K + p]) * double(b[p * N + j]);
      }
      const bool ok = double(C[i * ldc + j]) == want;
      bad += !ok;
      CHECK(ok, "%s: M=%ld N=%ld K=%ld ta=%d tb=%d beta=%d threads=%d blocks=(%ld,%ld,%ld): C(%ld,%ld)=%g want %g",
            what, long(M), long(N), long(K), ta, tb, beta, threads, long(bl.mc), long(bl.kc), long(bl.nc), long(i),
            long(j), double(C[i * ldc + j]), want);
    }
}

template <typename T>
void sweep(const GemmUkernel<T>& uk, const char* what) {
  const int mr = uk.mr, nr = uk.nr;
  const GemmBlocking machine = gemm_blocking(uk);
  const GemmBlocking tiny{2 * mr, 7, 2 * nr};
  const GemmBlocking odd{3 * mr, 13, 3 * nr};
  struct Shape { int64_t M, N, K; };
  const Shape shapes[] = {{1, 1, 1},   {1, 1, 0},   {3, 2, 0},  {1, 37, 5}, {29, 1, 11}, {mr, nr, 1},
                          {mr + 1, nr + 1, 2}, {2 * mr - 1, 2 * nr + 3, 31}, {53, 67, 41}, {97, 61, 17}};
  for (const GemmBlocking& bl : {tiny, odd, machine})
    for (const Shape& s : shapes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (int beta = 0; beta < 2; ++beta)
            for (int threads : {1, 2, 3}) one<T>(uk, bl, threads, ta, tb, s.M, s.N, s.K, beta, what);
  // More than one machine block along K and N, each transpose once.
  const int64_t big_k = machine.kc + 3, big_n = machine.nc + 7;
  for (int t = 0; t < 4; ++t) one<T>(uk, machine, 2, t & 1, t >> 1, 3 * mr + 3, big_n, big_k, t & 1, what);
  one<T>(uk, GemmBlocking{4 * mr, 64, 4 * nr}, 2, false, false, 8 * mr + 3, 5 * nr + 1, 200, 1, what);
}

}  // namespace

int main() {
  convbp_test::for_each_runnable_isa([&](Isa isa, const KernelTable& kt) {
    const GemmBlocking bf = gemm_blocking(kt.f32_gemm), bd = gemm_blocking(kt.f64_gemm);
    std::printf("%s: f32 blocks (mc, kc, nc)=(%ld, %ld, %ld), f64 (%ld, %ld, %ld)\n", isa_name(isa), long(bf.mc),
                long(bf.kc), long(bf.nc), long(bd.mc), long(bd.kc), long(bd.nc));
    sweep<float>(kt.f32_gemm, (std::string(isa_name(isa)) + " f32").c_str());
    sweep<double>(kt.f64_gemm, (std::string(isa_name(isa)) + " f64").c_str());
    if (kt.f32_gemm_narrow.run != kt.f32_gemm.run)
      sweep<float>(kt.f32_gemm_narrow, (std::string(isa_name(isa)) + " f32 narrow").c_str());
    if (kt.f64_gemm_narrow.run != kt.f64_gemm.run)
      sweep<double>(kt.f64_gemm_narrow, (std::string(isa_name(isa)) + " f64 narrow").c_str());
  });
  // Bad arguments are rejected, not run.
  float x = 0;
  bool threw = false;
  try { gemm<float>(false, false, 2, 2, 2, &x, 1, &x, 2, 0.0f, &x, 2); } catch (const std::invalid_argument&) { threw = true; }
  CHECK(threw, "lda < K accepted");
  threw = false;
  try { gemm<float>(false, false, 1, 1, 1, &x, 1, &x, 1, 0.5f, &x, 1); } catch (const std::invalid_argument&) { threw = true; }
  CHECK(threw, "beta=0.5 accepted");
  return convbp_test::test_exit_code("test-gemm");
}
