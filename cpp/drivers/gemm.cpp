// The GEMM driver: validation, the thread grid and the five loops (gemm.hpp).
#include "drivers/gemm.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "convbp/runtime.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp {

template <typename T>
void macro_kernel(const GemmUkernel<T>& uk, int64_t mc, int64_t nc, int64_t kc, const T* Ap, const T* Bp, T* C,
                  int64_t ldc, bool accumulate) {
  const int mr = uk.mr, nr = uk.nr;
  for (int64_t i = 0; i < mc; i += mr, Ap += int64_t(mr) * kc) {
    const int64_t m = std::min<int64_t>(mr, mc - i);
    const T* b = Bp;
    for (int64_t j = 0; j < nc; j += nr, b += int64_t(nr) * kc)
      uk.run(kc, Ap, b, C + i * ldc + j, ldc, m, std::min<int64_t>(nr, nc - j), accumulate);
  }
}

namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument("gemm: " + msg); }

template <typename T>
void validate(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
              int64_t ldb, T beta, const T* C, int64_t ldc) {
  if (M < 0 || N < 0 || K < 0)
    bad("negative size (M, N, K)=(" + std::to_string(M) + ", " + std::to_string(N) + ", " + std::to_string(K) + ")");
  if (!(beta == T(0) || beta == T(1))) bad("beta=" + std::to_string(double(beta)) + " must be 0 or 1");
  if (M == 0 || N == 0) return;
  const int64_t a_cols = transA ? M : K, b_cols = transB ? K : N;
  if (K > 0 && lda < std::max<int64_t>(a_cols, 1))
    bad("lda=" + std::to_string(lda) + " < " + std::to_string(a_cols) + " (columns of A)");
  if (K > 0 && ldb < std::max<int64_t>(b_cols, 1))
    bad("ldb=" + std::to_string(ldb) + " < " + std::to_string(b_cols) + " (columns of B)");
  if (ldc < N) bad("ldc=" + std::to_string(ldc) + " < N=" + std::to_string(N));
  if (!C || (K > 0 && (!A || !B))) bad("null pointer for A, B or C");
}

// tm x tn == nt threads over an Mp x Np grid of micro-tiles: the split with the
// fewest tiles on the busiest thread; ties go to splitting N (each thread then
// packs only its own B columns and the shared A block serves all).
void thread_grid(int64_t Mp, int64_t Np, int nt, int& tm, int& tn) {
  int64_t best = -1;
  for (int d = 1; d <= nt; ++d) {
    if (nt % d) continue;
    const int cand_tn = d, cand_tm = nt / d;
    const int64_t load = ((Mp + cand_tm - 1) / cand_tm) * ((Np + cand_tn - 1) / cand_tn);
    if (best < 0 || load <= best) { best = load; tm = cand_tm; tn = cand_tn; }
  }
}

// [lo, hi) of `count` items for part `i` of `parts` (balanced, deterministic).
inline void split(int64_t count, int parts, int i, int64_t& lo, int64_t& hi) {
  lo = count * i / parts;
  hi = count * (i + 1) / parts;
}

}  // namespace

template <typename T>
void gemm_with(const GemmUkernel<T>& uk, const GemmBlocking& bl, int threads, bool transA, bool transB, int64_t M,
               int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  validate(transA, transB, M, N, K, A, lda, B, ldb, beta, C, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: C = beta * C without ever reading C when beta == 0
    if (beta == T(0))
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  const int mr = uk.mr, nr = uk.nr;
  const int64_t kc_max = std::max<int64_t>(1, bl.kc);
  const int64_t mc_max = round_up(std::max<int64_t>(1, bl.mc), mr), nc_max = round_up(std::max<int64_t>(1, bl.nc), nr);
  const int64_t Mp = (M + mr - 1) / mr, Np = (N + nr - 1) / nr;
  // Below ~ 2 MFLOP per thread a team costs more than it gains.
  const double flops = 2.0 * double(M) * double(N) * double(K);
  int nt = std::max(1, std::min<int>(threads, int(std::min<double>(flops / 2e6 + 1, 1 << 20))));
  nt = int(std::min<int64_t>(nt, Mp * Np));

  const int64_t mc_blk = std::min(mc_max, round_up(M, mr)), kc_blk = std::min(kc_max, K);
  const int64_t nc_blk = std::min(nc_max, round_up(N, nr));
  AlignedBuffer<T> a_pack(mc_blk * kc_blk);
  std::vector<AlignedBuffer<T>> b_pack(nt);
  for (auto& b : b_pack) b.reset(kc_blk * nc_blk);

  // Nothing below throws: the team meets at barriers, so no thread may leave early.
  parallel_team(nt, [&](int tid, int team) {
    int tm = 1, tn = 1;
    thread_grid(std::min<int64_t>(Mp, mc_max / mr), Np, team, tm, tn);
    const int ti = tid / tn, tj = tid % tn;
    int64_t np0, np1;  // this thread's columns: NR panels [np0, np1) of all of N
    split(Np, tn, tj, np0, np1);
    const int64_t n0 = np0 * nr, n1 = std::min(N, np1 * nr);
    T* bp = b_pack[tid].data();
    for (int64_t ic = 0; ic < M; ic += mc_max) {
      const int64_t mc = std::min(mc_max, M - ic), mp = (mc + mr - 1) / mr;
      for (int64_t pc = 0; pc < K; pc += kc_max) {
        const int64_t kc = std::min(kc_max, K - pc);
        const bool accumulate = pc > 0 || beta == T(1);
        // The team packs the A block together, one share of micro-panels each.
        int64_t q0, q1;
        split(mp, team, tid, q0, q1);
        for (int64_t q = q0; q < q1; ++q) {
          const int64_t i = ic + q * mr;
          const T* src = transA ? A + pc * lda + i : A + i * lda + pc;
          pack_a(mr, transA, src, lda, std::min<int64_t>(mr, M - i), kc, a_pack.data() + q * mr * kc);
        }
#pragma omp barrier
        int64_t r0, r1;  // this thread's A micro-panels of the block
        split(mp, tm, ti, r0, r1);
        if (r1 > r0) {
          const int64_t rows = std::min(mc, r1 * mr) - r0 * mr;
          for (int64_t jc = n0; jc < n1; jc += nc_max) {
            const int64_t nc = std::min(nc_max, n1 - jc);
            const T* src = transB ? B + jc * ldb + pc : B + pc * ldb + jc;
            pack_b(nr, transB, src, ldb, kc, nc, bp);
            macro_kernel(uk, rows, nc, kc, a_pack.data() + r0 * mr * kc, bp, C + (ic + r0 * mr) * ldc + jc, ldc,
                         accumulate);
          }
        }
#pragma omp barrier
      }
    }
  });
}

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  const GemmUkernel<T>& uk = kernel_table().gemm_for<T>(N);
  gemm_with(uk, gemm_blocking(uk), num_threads(), transA, transB, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

#define CONVBP_INSTANTIATE(T)                                                                                   \
  template void macro_kernel<T>(const GemmUkernel<T>&, int64_t, int64_t, int64_t, const T*, const T*, T*,    \
                                int64_t, bool);                                                             \
  template void gemm_with<T>(const GemmUkernel<T>&, const GemmBlocking&, int, bool, bool, int64_t, int64_t,   \
                             int64_t, const T*, int64_t, const T*, int64_t, T, T*, int64_t);                \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, const T*, int64_t, const T*, int64_t, T, T*, \
                        int64_t);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp
