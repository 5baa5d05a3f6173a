// The data-movement kernels (copy_runs, add_runs, transpose, split_columns;
// contracts in cpp/kernels/kernels.hpp) of every ISA this CPU runs, alone: run
// lengths 0..70 (every vector tail), strides 0..3, odd offsets; transposes of
// every shape up to 20 x 20 (every vector tail) and larger, with packed and
// padded leading dimensions; column splits of widths 1..70 at steps 1..3, clipped
// and unclipped. Values are distinct integers (exact), and guard values around
// every destination must survive.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "dispatch/kernel-table.hpp"

using namespace convbp;

namespace {

constexpr double kGuard = -4242.0;

template <typename T>
void runs(const MoveKernels<T>& mk, const std::string& what) {
  for (int32_t step = 0; step <= 3; ++step)
    for (int32_t len = 0; len <= 70; ++len)
      for (int64_t off = 0; off < 3; ++off) {
        // Two runs into one destination, separated by a gap that must survive.
        const CopyRun rr[2] = {{off, 5, len, step}, {off + len + 3, 1, len / 2, step}};
        std::vector<T> src(size_t(5 + 3 * 71 + 8)), dst(size_t(2 * len + 20), T(kGuard));
        for (size_t i = 0; i < src.size(); ++i) src[i] = T(int(i) * 3 - 100);
        std::vector<T> want = dst;
        for (const CopyRun& r : rr)
          for (int32_t i = 0; i < r.len; ++i) want[size_t(r.dst + i)] = r.step > 0 ? src[size_t(r.src + i * r.step)] : T(0);
        mk.copy_runs(rr, 2, src.data(), dst.data());
        for (size_t i = 0; i < dst.size(); ++i)
          CHECK(dst[i] == want[i], "%s copy_runs step=%d len=%d off=%ld: dst[%zu]=%g want %g", what.c_str(), step, len,
                long(off), i, double(dst[i]), double(want[i]));
        if (step == 0) continue;
        // add_runs: dst[dst + i*step] += src[src + i]
        const CopyRun ar[2] = {{off, 2, len, step}, {off + int64_t(len) * step + 2, 7, len / 3, step}};
        std::vector<T> acc(size_t(2 * len * step + 30), T(kGuard));
        for (size_t i = 0; i < acc.size(); ++i) if (i % 5 != 0) acc[i] = T(int(i) - 50);
        std::vector<T> wacc = acc;
        for (const CopyRun& r : ar)
          for (int32_t i = 0; i < r.len; ++i) wacc[size_t(r.dst + int64_t(i) * r.step)] += src[size_t(r.src + i)];
        mk.add_runs(ar, 2, src.data(), acc.data());
        for (size_t i = 0; i < acc.size(); ++i)
          CHECK(acc[i] == wacc[i], "%s add_runs step=%d len=%d off=%ld: dst[%zu]=%g want %g", what.c_str(), step, len,
                long(off), i, double(acc[i]), double(wacc[i]));
      }
}

template <typename T>
void transposes(const MoveKernels<T>& mk, const std::string& what) {
  for (int64_t rows = 1; rows <= 37; rows += (rows < 20 ? 1 : 8))
    for (int64_t cols = 1; cols <= 37; cols += (cols < 20 ? 1 : 8))
      for (int64_t pad = 0; pad < 2; ++pad) {
        const int64_t lds = cols + 3 * pad, ldd = rows + 5 * pad;
        std::vector<T> src(size_t(rows * lds));
        for (size_t i = 0; i < src.size(); ++i) src[i] = T(int(i % 1000) + 1);
        std::vector<T> dst(size_t(cols * ldd + 16), T(kGuard));
        mk.transpose(src.data(), lds, rows, cols, dst.data(), ldd);
        for (int64_t k = 0; k < int64_t(dst.size()); ++k) {
          const int64_t j = k / ldd, i = k % ldd;
          const T want = (j < cols && i < rows) ? src[size_t(i * lds + j)] : T(kGuard);
          CHECK(dst[size_t(k)] == want, "%s transpose rows=%ld cols=%ld lds=%ld ldd=%ld: dst[%ld]=%g want %g",
                what.c_str(), long(rows), long(cols), long(lds), long(ldd), long(k), double(dst[size_t(k)]),
                double(want));
        }
      }
}

template <typename T>
void splits(const MoveKernels<T>& mk, const std::string& what) {
  for (int64_t step = 1; step <= 3; ++step)
    for (int64_t cols = 1; cols <= 70; cols += (cols < 40 ? 1 : 7))
      for (int64_t rows = 1; rows <= 4; rows += 3)
        for (int64_t clip = 0; clip < 2; ++clip) {
          const int64_t count0 = (cols + step - 1) / step;  // columns of phase 0, the widest
          const int64_t width = clip ? (count0 + 1) / 2 : count0;
          const int64_t lds = cols * step + 1, ldd = width + 2 * clip;  // rows apart; dst rows padded when clipped
          const int64_t phase = rows * ldd + 5;                         // a gap between the phases
          std::vector<T> src(size_t(rows * lds));
          for (size_t i = 0; i < src.size(); ++i) src[i] = T(int(i % 1000) + 1);
          std::vector<T> dst(size_t(step * phase + 8), T(kGuard));
          mk.split_columns(src.data(), lds, rows, cols, step, dst.data(), ldd, phase, width);
          for (int64_t k = 0; k < int64_t(dst.size()); ++k) {
            const int64_t f = k / phase, e = k % phase, i = e / ldd, v = e % ldd;
            const int64_t count = f < step ? std::min((cols - f + step - 1) / step, width) : 0;
            const bool in = f < step && i < rows && v < count;
            const T want = in ? src[size_t(i * lds + f + v * step)] : T(kGuard);
            CHECK(dst[size_t(k)] == want, "%s split_columns step=%ld cols=%ld rows=%ld width=%ld: dst[%ld]=%g want %g",
                  what.c_str(), long(step), long(cols), long(rows), long(width), long(k), double(dst[size_t(k)]),
                  double(want));
          }
        }
}

}  // namespace

int main() {
  convbp_test::for_each_runnable_isa([&](Isa isa, const KernelTable& kt) {
    const std::string name = isa_name(isa);
    runs<float>(kt.f32_move, name + " f32");
    runs<double>(kt.f64_move, name + " f64");
    transposes<float>(kt.f32_move, name + " f32");
    transposes<double>(kt.f64_move, name + " f64");
    splits<float>(kt.f32_move, name + " f32");
    splits<double>(kt.f64_move, name + " f64");
  });
  return convbp_test::test_exit_code("test-move-kernels");
}
