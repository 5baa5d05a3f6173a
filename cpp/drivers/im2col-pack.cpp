// Building the run plans of im2col-pack.hpp. Column tiles are cut into
// segments that stay within one image, one output row (for phi) and one B panel
// (for panel layouts); each segment becomes at most three runs: zeros for the
// padding on the left, the copy, zeros on the right. Padding is found with
// valid_range (never read).
#include "drivers/im2col-pack.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "drivers/parallel.hpp"

namespace convbp {

namespace {

// Calls f(n, p, q0, q1, col) for the segments of columns [j0, j0 + len): within
// one image, one output row when by_row (else p = 0 and q runs over pq), one
// panel of nr columns when nr > 0.
template <class F>
void segments(int64_t j0, int64_t len, int64_t PQ, int64_t Q, bool by_row, int nr, F&& f) {
  const int64_t end = j0 + len;
  for (int64_t j = j0; j < end;) {
    const int64_t n = j / PQ, pq = j % PQ;
    int64_t stop = std::min(end, (n + 1) * PQ);
    if (by_row) stop = std::min(stop, j + (Q - pq % Q));
    if (nr > 0) stop = std::min(stop, j0 + ((j - j0) / nr + 1) * nr);
    if (by_row) f(n, pq / Q, pq % Q, pq % Q + (stop - j), j - j0);
    else f(n, int64_t(0), pq, pq + (stop - j), j - j0);
    j = stop;
  }
}

// A run's length and step are 32-bit fields, and step 0 means zeros. A one-element
// run's step is never used: it is stored as 1, since a column stride of 2^31 or
// more (a 1-wide output) once truncated to 0 there and copied zeros instead of x.
inline void add_run(Plan& plan, int64_t dst, int64_t src, int64_t len, int64_t step) {
  if (len <= 0) return;
  if (len == 1 && step > 0) step = 1;
  if (len > INT32_MAX || step > INT32_MAX)
    throw std::length_error("im2col: a run of " + std::to_string(len) + " elements, step " + std::to_string(step) +
                            ", does not fit the copy kernels' 32-bit fields");
  plan.runs.push_back(CopyRun{dst, src, int32_t(len), int32_t(step)});
}

// Zeros for the columns that pad the last B panel of a len-column tile.
inline void panel_tail(Plan& plan, int64_t len, int nr, int64_t kc) {
  if (nr > 0 && len % nr) add_run(plan, panel_pos(len, nr, kc), 0, nr - len % nr, 0);
}

inline void start(Plan& plan) {
  plan.runs.clear();
  plan.first.assign(1, 0);
}
inline void close_group(Plan& plan) { plan.first.push_back(int64_t(plan.runs.size())); }

}  // namespace

void plan_gather(int64_t j0, int64_t len, int64_t PQ, int64_t img, int nr, int64_t kc, Plan& plan) {
  start(plan);
  segments(j0, len, PQ, PQ, false, nr, [&](int64_t n, int64_t, int64_t q0, int64_t q1, int64_t col) {
    add_run(plan, panel_pos(col, nr, kc), n * img + q0, q1 - q0, 1);
  });
  panel_tail(plan, len, nr, kc);
  close_group(plan);
}

void plan_scatter(int64_t j0, int64_t len, int64_t PQ, int64_t img, Plan& plan) {
  start(plan);
  segments(j0, len, PQ, PQ, false, 0, [&](int64_t n, int64_t, int64_t q0, int64_t q1, int64_t col) {
    add_run(plan, n * img + q0, col, q1 - q0, 1);
  });
  close_group(plan);
}

namespace {

// The ranges of one (r, s) tap: output rows [p0, p1) and columns [q0, q1) whose
// input position lies inside x, and the tap's offset into x (oh, ow).
struct Tap {
  int64_t oh, ow, p0, p1, q0, q1;
  Tap(const ConvParams& p, int64_t r, int64_t s) {
    oh = r * p.dil_h - p.pad_top;
    ow = s * p.dil_w - p.pad_left;
    valid_range(oh, p.stride_h, p.H, p.P(), p0, p1);
    valid_range(ow, p.stride_w, p.W, p.Q(), q0, q1);
  }
};

}  // namespace

void plan_im2col(const ConvParams& p, int64_t j0, int64_t len, int nr, int64_t kc, Plan& plan) {
  start(plan);
  const int64_t PQ = p.P() * p.Q(), CHW = p.C * p.H * p.W;
  for (int64_t r = 0; r < p.R; ++r)
    for (int64_t s = 0; s < p.S; ++s) {
      const Tap tap(p, r, s);
      segments(j0, len, PQ, p.Q(), true, nr, [&](int64_t n, int64_t pp, int64_t q0, int64_t q1, int64_t col) {
        if (pp < tap.p0 || pp >= tap.p1) {
          add_run(plan, panel_pos(col, nr, kc), 0, q1 - q0, 0);
          return;
        }
        const int64_t a = std::clamp(tap.q0, q0, q1), b = std::clamp(tap.q1, a, q1);
        const int64_t row = n * CHW + (pp * p.stride_h + tap.oh) * p.W + tap.ow;
        // Runs never cross a panel (segments stop at panel edges), so positions
        // inside the segment are consecutive.
        add_run(plan, panel_pos(col, nr, kc), 0, a - q0, 0);
        add_run(plan, panel_pos(col + (a - q0), nr, kc), row + a * p.stride_w, b - a, p.stride_w);
        add_run(plan, panel_pos(col + (b - q0), nr, kc), 0, q1 - b, 0);
      });
      panel_tail(plan, len, nr, kc);
      close_group(plan);
    }
}

void plan_col2im(const ConvParams& p, int64_t j0, int64_t len, int64_t h0, int64_t h1, Plan& plan) {
  start(plan);
  const int64_t PQ = p.P() * p.Q(), CHW = p.C * p.H * p.W;
  for (int64_t r = 0; r < p.R; ++r)
    for (int64_t s = 0; s < p.S; ++s) {
      const Tap tap(p, r, s);
      segments(j0, len, PQ, p.Q(), true, 0, [&](int64_t n, int64_t pp, int64_t q0, int64_t q1, int64_t col) {
        if (pp < tap.p0 || pp >= tap.p1) return;
        const int64_t h = pp * p.stride_h + tap.oh;
        if (h < h0 || h >= h1) return;
        const int64_t a = std::clamp(tap.q0, q0, q1), b = std::clamp(tap.q1, a, q1);
        const int64_t row = n * CHW + h * p.W + tap.ow;
        add_run(plan, row + a * p.stride_w, col + (a - q0), b - a, p.stride_w);
      });
      close_group(plan);
    }
}

}  // namespace convbp
