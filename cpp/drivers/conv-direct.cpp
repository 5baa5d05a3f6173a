// The direct route (issue "Fast path 2"): the three passes computed straight from
// NCHW, no im2col buffer. Every pass is reduced, row by row, to a list of taps (an
// input row, a weight, a valid column range) handed to one of two micro-kernels
// (kernels/direct-args.hpp); strides, dilations, paddings and groups are all index
// arithmetic in drivers/direct-geometry.*. Two register blockings:
//   - "rows" mode, when an output row has a single input channel group member to
//     block over (depthwise with multiplier 1: Kg == 1 forward, Cg == 1 backward):
//     the tile is several output rows of one channel sharing each weight;
//   - "channels" mode otherwise: the tile is several output channels sharing each
//     loaded input vector (Zhang, Franchetti, Low, ICML 2018; Georganas et al., SC18).
// Depthwise convolutions (one input plane per output plane) have their own kernels
// whose tile is one channel's taps: plane-rows for forward and backward-input
// (multiplier 1, drivers/direct-depthwise-rows.cpp) and plane-dots for
// backward-weight (multiplier <= 4, drivers/direct-depthwise-weight.cpp).
// Forward and backward-input write every output element from exactly one task and
// sum in a fixed order; backward-weight gives each task its own block of dw (a
// partition of the weight), summing over the batch in order: results are
// bit-identical for any thread count.
#include "drivers/conv-direct.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "dispatch/routes.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"
#include "drivers/prefetch.hpp"

namespace convbp::direct {

namespace {

// The tap lists of one kernel call (reused across calls of a task).
template <typename T>
struct Taps {
  std::vector<const T*> src, w;
  std::vector<int64_t> lo, hi;
  std::vector<double*> acc;
  void clear() {
    src.clear();
    w.clear();
    lo.clear();
    hi.clear();
    acc.clear();
  }
  void add(const T* s, int64_t l, int64_t h) {
    src.push_back(s);
    lo.push_back(l);
    hi.push_back(h);
  }
  int64_t size() const { return int64_t(src.size()); }
};

// Per-thread buffers that persist across calls, so a pass does not page-fault a
// fresh allocation each time. Slot 0: split input planes; slot 1: output phases.
template <typename T>
T* scratch(int slot, int64_t n) {
  thread_local std::vector<T> buf[2];
  if (int64_t(buf[slot].size()) < n) buf[slot].resize(size_t(n));
  return buf[slot].data();
}

// Outputs one task aims to cover (small planes are batched to this), and the
// most channels one register-blocked call covers in channels mode.
constexpr int64_t kTaskOutputs = 16384;
constexpr int64_t kMaxBlock = 24;
// Outputs per kernel call between two prefetch steps (NextPrefetch): calls of 8
// rows cost resnext50.l1.g32 9% where its data is in cache, of 28 rows 2-3%.
constexpr int64_t kPrefetchOutputs = 2048;

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// How a pass splits into tasks: (outer index, block of groups, block of channels
// inside the group). Groups are batched until a task has about kTaskOutputs
// outputs; both blocks shrink while there are fewer than 4 tasks per thread.
struct Blocking {
  int64_t gb, gblocks, cb, cblocks;
  int64_t tasks(int64_t outer) const { return outer * gblocks * cblocks; }
  // Task t's outer index (the image) and first group.
  int64_t outer_of(int64_t t) const { return t / (gblocks * cblocks); }
  int64_t group_of(int64_t t) const { return t / cblocks % gblocks * gb; }
};
Blocking blocking(int64_t outer, int64_t groups, int64_t per_group, int64_t plane, bool channel_blocks) {
  Blocking b;
  b.cb = channel_blocks ? std::min(per_group, kMaxBlock) : per_group;
  b.gb = std::max<int64_t>(1, std::min(groups, kTaskOutputs / std::max<int64_t>(1, b.cb * plane)));
  const int64_t want = 4 * int64_t(num_threads());
  auto tasks = [&] { return outer * cdiv(groups, b.gb) * cdiv(per_group, b.cb); };
  while (tasks() < want && b.gb > 1) b.gb = cdiv(b.gb, 2);
  while (channel_blocks && tasks() < want && b.cb > 6) b.cb -= 6;
  b.gblocks = cdiv(groups, b.gb);
  b.cblocks = cdiv(per_group, b.cb);
  return b;
}

// The NextPrefetch of task + 1's input: its groups' planes of src (per_group planes
// of `plane` elements a group, `channels` planes an image), over `units` units of
// this task; nothing for the last task or a null src.
template <typename T>
NextPrefetch next_task_planes(const Blocking& b, int64_t task, int64_t ntasks, const T* src, int64_t channels,
                              int64_t groups, int64_t per_group, int64_t plane, int64_t units) {
  if (!src || task + 1 >= ntasks) return NextPrefetch(nullptr, 0, units);
  const int64_t n = b.outer_of(task + 1), g0 = b.group_of(task + 1);
  return NextPrefetch(src + (n * channels + g0 * per_group) * plane,
                      std::min(b.gb, groups - g0) * per_group * plane * int64_t(sizeof(T)), units);
}

template <typename T>
DirectRowsArgs<T> rows_args(const Taps<T>& t, int64_t m, int64_t n) {
  DirectRowsArgs<T> a;
  a.m = m;
  a.n = n;
  a.ntaps = t.size();
  a.src = t.src.data();
  a.lo = t.lo.data();
  a.hi = t.hi.data();
  a.w = t.w.data();
  return a;
}

// The input planes [first, first + count) of x (NCHW planes), split by column
// phase into this thread's scratch when sw > 1. `call` names the pass call: a
// thread whose previous task in the same call split the same planes reuses them.
// Why: the channel blocks of an image are consecutive tasks (static schedule), and
// each split them again; mobilenet.stem (3 planes of 224x224, 32 output channels in
// blocks of 24 + 8) spent 21% of its forward in the copy, half of it repeated.
template <typename T>
const T* input_planes(const KernelTable& kt, const ConvParams& p, const SplitGeom& sg, const T* x, int64_t first,
                      int64_t count, uint64_t call) {
  if (!sg.copy) return x + first * p.H * p.W;
  thread_local uint64_t last_call = 0;
  thread_local int64_t last_first = -1, last_count = -1;
  T* buf = scratch<T>(0, count * sg.plane);
  if (last_call == call && last_first == first && last_count == count) return buf;
  split_planes(kt, sg, x + first * p.H * p.W, count, buf);
  last_call = call, last_first = first, last_count = count;
  return buf;
}

// A number no earlier call of this process had (never 0), for input_planes.
inline uint64_t new_call_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

// y[n,k,p,q] = b[k] + sum_{c,r,s} w[k,c,r,s] x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
// (DESIGN.md; Diba eq. 6 with stride, dilation, groups). A task is (image, block of
// groups, block of output channels in the group); the groups of a block are the
// kernel's planes (same geometry, constant pointer strides).
template <typename T>
void forward(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (expand_fits(p, kt, sizeof(T) == 8, Pass::Forward)) return forward_expand(kt, p, x, w, bias, y);
  if (forward_phases_first(p, kt, sizeof(T) == 8)) return forward_phases(kt, p, x, w, bias, y);
  if (plane_s2_fits(p, kt, sizeof(T) == 8)) return forward_planes_s2(kt, p, x, w, bias, y);
  if (cvec_fits(p)) return forward_cvec(kt, p, x, w, bias, y);
  if (bcast_fits(p, Pass::Forward, kt.direct<T>().bcast_lanes)) return forward_bcast(kt, p, x, w, bias, y);
  if (plane_rows_fits(p)) return forward_planes(kt, p, x, w, bias, y);
  const auto rows = kt.direct<T>().rows;
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg(), RS = p.R * p.S, G = p.groups;
  const SplitGeom sg = split_geom(p);
  const std::vector<ColTap> cols = forward_col_taps(p, sg.copy ? sg.phase : 0);
  const std::vector<RowRun> runs = forward_row_runs(p);
  const int64_t pitch = sg.copy ? sg.pitch : p.W, plane = sg.copy ? sg.plane : p.H * p.W;
  static const T zero = T(0);
  // Rows mode when each group has one output channel: the tile is rows of it.
  const bool rows_mode = Kg == 1;
  const Blocking b = blocking(p.N, G, Kg, P * Q, !rows_mode);
  const uint64_t call_id = new_call_id();
  const int64_t ntasks = b.tasks(p.N);
  parallel_for(ntasks, [&](int64_t task) {
    const int64_t n = b.outer_of(task), g0 = b.group_of(task);
    const int64_t kl0 = task % b.cblocks * b.cb, gn = std::min(b.gb, G - g0), kn = std::min(b.cb, Kg - kl0);
    const int64_t k0 = g0 * Kg + kl0;
    const T* xin = input_planes(kt, p, sg, x, n * p.C + g0 * Cg, gn * Cg, call_id);
    Taps<T> taps;
    // Channels mode with one group in the task: the rows of a run share their tap
    // list, so one call covers them all, its planes stepping a row (building the
    // list per row took a third of the time on ResNeXt's 56x56 grouped layer).
    auto call = [&](const RowRun& run, int64_t row, int64_t m, int64_t rows_as_planes = 0) {
      taps.clear();
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t r : run.rs) {
          const T* xr = xin + c * plane + (row * p.stride_h + r * p.dil_h - p.pad_top) * pitch;
          for (int64_t s = 0; s < p.S; ++s) {
            const ColTap& ct = cols[size_t(s)];
            if (ct.lo >= ct.hi) continue;
            taps.add(xr + ct.offset, ct.lo, ct.hi);
            taps.w.push_back(w + (k0 * Cg + c) * RS + r * p.S + s);
          }
        }
      DirectRowsArgs<T> a = rows_args(taps, m, Q);
      a.planes = gn;
      a.src_p = Cg * plane;
      a.w_p = Kg * Cg * RS;
      a.out = y + ((n * p.K + k0) * P + row) * Q;
      a.out_p = Kg * P * Q;
      a.bias = bias ? bias + k0 : &zero;
      a.bias_p = bias ? Kg : 0;
      if (rows_mode) {
        a.src_i = p.stride_h * pitch;
        a.out_i = Q;
      } else {
        a.w_i = Cg * RS;
        a.out_i = P * Q;
        a.bias_i = bias ? 1 : 0;
      }
      if (rows_as_planes > 0) {
        a.planes = rows_as_planes;
        a.src_p = p.stride_h * pitch;
        a.w_p = 0;
        a.out_p = Q;
        a.bias_p = 0;
      }
      rows(a);
    };
    // The next task's input planes (not when they are a split copy), a share per
    // output row; a run's rows go in calls of about kPrefetchOutputs so the shares spread.
    NextPrefetch pf = next_task_planes(b, task, ntasks, sg.copy ? nullptr : x, p.C, G, Cg, p.H * p.W, P);
    for (const RowRun& run : runs) {
      if (rows_mode) {
        pf.upto(run.b);
        call(run, run.a, run.b - run.a);
      } else if (gn == 1) {
        const int64_t step = pf.active() ? std::max<int64_t>(1, kPrefetchOutputs / Q) : run.b - run.a;
        for (int64_t r0 = run.a; r0 < run.b; r0 += step) {
          pf.upto(std::min(run.b, r0 + step));
          call(run, r0, kn, std::min(step, run.b - r0));
        }
      } else {
        for (int64_t row = run.a; row < run.b; ++row) {
          pf.upto(row + 1);
          call(run, row, kn);
        }
      }
    }
  });
}

// dx[n,c,h,v] = sum_{k,r,s} w[k,c,r,s] dyd[n,k, h + top - r*dh, v + left - s*dw], with dyd
// the stride-dilated dy: the seeds' full correlation of the dilated dy with rot180(w)
// (Diba eqs. 24-29, Ji & Xie eq. 17) after the substitution r' = R-1-r. Outputs are
// split by phase (h mod sh, v mod sw); in a phase only the taps landing on real dy
// entries exist (direct-geometry.hpp: phase_taps), so no inserted zero is read or
// multiplied, and each dx element is written once (gather, no scatter-add).
template <typename T>
void backward_input(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  if (expand_fits(p, kt, sizeof(T) == 8, Pass::BackwardInput)) return backward_input_expand(kt, p, dy, w, dx);
  if (cvec_fits(p)) return backward_input_cvec(kt, p, dy, w, dx);
  if (bcast_fits(p, Pass::BackwardInput, kt.direct<T>().bcast_lanes)) return backward_input_bcast(kt, p, dy, w, dx);
  if (plane_rows_fits(p)) return backward_input_planes(kt, p, dy, w, dx);
  const auto rows = kt.direct<T>().rows;
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg(), RS = p.R * p.S, G = p.groups;
  const int64_t sh = p.stride_h, sw = p.stride_w, H = p.H, W = p.W;
  struct RowPhase {
    int64_t phase, count;
    std::vector<PhaseTap> taps;
    std::vector<RowRun> runs;
  };
  struct ColPhase {
    int64_t phase, count;
    std::vector<PhaseTap> taps;
  };
  std::vector<RowPhase> rph;
  for (int64_t f = 0; f < sh && f < H; ++f) {
    RowPhase rp{f, phase_count(H, sh, f), phase_taps(f, sh, p.dil_h, p.pad_top, p.R, H, P), {}};
    std::vector<int64_t> lo, hi;
    for (const PhaseTap& t : rp.taps) {
      lo.push_back(t.lo);
      hi.push_back(t.hi);
    }
    rp.runs = row_runs(lo, hi, rp.count);
    rph.push_back(std::move(rp));
  }
  std::vector<ColPhase> cph;
  for (int64_t f = 0; f < sw && f < W; ++f)
    cph.push_back(ColPhase{f, phase_count(W, sw, f), phase_taps(f, sw, p.dil_w, p.pad_left, p.S, W, Q)});
  static const T zero = T(0);
  // Rows mode when each group has one input channel (depthwise): the tile is
  // same-phase dx rows phase + sh*i of it, reading dy rows base + i.
  const bool rows_mode = Cg == 1;
  const Blocking b = blocking(p.N, G, Cg, H * W, !rows_mode);
  const int64_t ntasks = b.tasks(p.N);
  parallel_for(ntasks, [&](int64_t task) {
    const int64_t n = b.outer_of(task), g0 = b.group_of(task);
    const int64_t cl0 = task % b.cblocks * b.cb, gn = std::min(b.gb, G - g0), cn = std::min(b.cb, Cg - cl0);
    Taps<T> taps;
    // dx rows phase + sh*i (i in [i0, i0 + m) for rows mode, i = i0 for channels
    // mode), column phase cp, of channels g*Cg + cl0 (+ c) for the gn groups.
    // dx rows phase + sh*i (i in [i0, i0 + m) for rows mode, i = i0 for channels
    // mode), column phase cp, of channels g*Cg + cl0 (+ c) for the gn groups,
    // written to out (rows out_i apart, planes out_p apart).
    auto compute = [&](const RowPhase& rp, const RowRun& run, int64_t i0, int64_t m, const ColPhase& cp, T* out,
                       int64_t out_i, int64_t out_p, int64_t rows_as_planes = 0) {
      taps.clear();
      for (int64_t kk = 0; kk < Kg; ++kk) {
        const int64_t k = g0 * Kg + kk;
        const T* dyk = dy + (n * p.K + k) * P * Q;
        const T* wk = w + (k * Cg + cl0) * RS;
        for (int64_t r : run.rs) {
          const T* dyr = dyk + (rp.taps[size_t(r)].base + i0) * Q;
          for (int64_t s = 0; s < p.S; ++s) {
            const PhaseTap& ct = cp.taps[size_t(s)];
            if (ct.lo >= ct.hi) continue;
            taps.add(dyr + ct.base, ct.lo, ct.hi);
            taps.w.push_back(wk + r * p.S + s);
          }
        }
      }
      DirectRowsArgs<T> a = rows_args(taps, m, cp.count);
      a.planes = gn;
      a.src_p = Kg * P * Q;
      a.w_p = Kg * Cg * RS;
      a.bias = &zero;
      if (rows_mode) a.src_i = Q;
      else a.w_i = RS;
      a.out = out;
      a.out_i = out_i;
      a.out_p = out_p;
      if (rows_as_planes > 0) {  // one group: the planes step a dy row and a dx row of the phase
        a.planes = rows_as_planes;
        a.src_p = Q;
        a.w_p = 0;
        a.out_p = sh * W;
      }
      rows(a);
    };
    auto call = [&](const RowPhase& rp, const RowRun& run, int64_t i0, int64_t m) {
      const int64_t row_step = rows_mode ? sh * W : H * W;  // dx elements between the tile's rows
      T* dx0 = dx + ((n * p.C + g0 * Cg + cl0) * H + rp.phase + sh * i0) * W;
      if (sw == 1) {  // phase 0 is the whole row: write in place
        compute(rp, run, i0, m, cph[0], dx0, row_step, Cg * H * W);
        return;
      }
      // Every column phase contiguously (phase 0 is the longest), then merged into
      // the dx rows with every sw-th column from each phase.
      const int64_t cmax = cph[0].count, nph = int64_t(cph.size()), block = gn * m * cmax;
      T* tmp = scratch<T>(1, nph * block);
      for (int64_t f = 0; f < nph; ++f) compute(rp, run, i0, m, cph[size_t(f)], tmp + f * block, cmax, m * cmax);
      for (int64_t z = 0; z < gn; ++z)
        for (int64_t i = 0; i < m; ++i)
          merge_phases(tmp + (z * m + i) * cmax, block, sw, W, dx0 + z * Cg * H * W + i * row_step);
    };
    // The next task's dy planes, a share per dx row (as in forward).
    NextPrefetch pf = next_task_planes(b, task, ntasks, dy, p.K, G, Kg, P * Q, H);
    int64_t done = 0;  // dx rows computed, over all phases
    for (const RowPhase& rp : rph)
      for (const RowRun& run : rp.runs) {
        if (rows_mode) {
          pf.upto(done += run.b - run.a);
          call(rp, run, run.a, run.b - run.a);
        } else if (gn == 1 && sw == 1) {  // as in forward: the run's rows in one call (a call per kPrefetchOutputs)
          const int64_t step = pf.active() ? std::max<int64_t>(1, kPrefetchOutputs / W) : run.b - run.a;
          for (int64_t i0 = run.a; i0 < run.b; i0 += step) {
            const int64_t m = std::min(step, run.b - i0);
            pf.upto(done += m);
            compute(rp, run, i0, cn, cph[0], dx + ((n * p.C + g0 * Cg + cl0) * H + rp.phase + sh * i0) * W, H * W, 0, m);
          }
        } else {
          for (int64_t i = run.a; i < run.b; ++i) {
            pf.upto(++done);
            call(rp, run, i, cn);
          }
        }
      }
  });
}

// dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
// (Diba eq. 15: x correlated with the stride-dilated dy; the dilation is the tap's
// row and column stride). Each task owns a (group) x (run of k blocks) x (block of
// c) part of dw and sums over the batch, or over one chunk of it, in order (the
// images are the kernel's planes), into accumulators no other task touches; chunks
// are added in order at the end, and the chunking depends on the shape only.
template <typename T>
void backward_weight(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  if (expand_fits(p, kt, sizeof(T) == 8, Pass::BackwardWeight)) return backward_weight_expand(kt, p, x, dy, dw);
  if (phases_fits(p, kt.isa, kt.direct<T>().cvec_lanes)) return backward_weight_phases(kt, p, x, dy, dw);
  if (cvec_fits(p)) return backward_weight_cvec(kt, p, x, dy, dw);
  if (bcast_fits(p, Pass::BackwardWeight, kt.direct<T>().bcast_lanes)) return backward_weight_bcast(kt, p, x, dy, dw);
  if (plane_dots_fits(p)) return backward_weight_planes(kt, p, x, dy, dw);
  const auto dots = kt.direct<T>().dots;
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg(), RS = p.R * p.S, G = p.groups;
  const SplitGeom sg = split_geom(p);
  const std::vector<ColTap> cols = forward_col_taps(p, sg.copy ? sg.phase : 0);
  const std::vector<RowRun> runs = forward_row_runs(p);
  const int64_t pitch = sg.copy ? sg.pitch : p.W, plane = sg.copy ? sg.plane : p.H * p.W;
  const int64_t KB = std::min<int64_t>(Kg, 12), kblocks = cdiv(Kg, KB);
  const int64_t nt = num_threads();
  // Few weight blocks (a stem: C = 3 channels, K = 32) leave threads idle, so the
  // batch is also split into chunks, each task summing its chunk into its own
  // double accumulators, added in chunk order at the end. The chunking depends on
  // the shape only, so results do not depend on the thread count.
  const int64_t chunks = G * Cg < 16 ? std::clamp<int64_t>(p.N, 1, 8) : 1;
  const int64_t per_chunk = cdiv(std::max<int64_t>(p.N, 1), chunks);
  int64_t CB = std::min<int64_t>(Cg, 16);
  while (CB > 1 && G * kblocks * cdiv(Cg, CB) * chunks < 4 * nt) CB = cdiv(CB, 2);
  const int64_t cblocks = cdiv(Cg, CB);
  // A task takes a run of KT k blocks of one (group, c block, chunk): the x planes
  // it splits (sw > 1) and the rows it reads serve all of them. As few runs as
  // keep 4 tasks per thread. (MobileNet's stem backward-weight, 2 threads: direct
  // took 1.14x im2col's time with 9 tasks, each splitting x again.)
  int64_t kgroups = 1;
  while (kgroups < kblocks && G * cblocks * kgroups * chunks < 4 * nt) ++kgroups;
  const int64_t KT = cdiv(kblocks, kgroups);
  kgroups = cdiv(kblocks, KT);
  // Images per call: all of a chunk's when x is read in place; a bounded batch
  // when they are split into scratch first.
  const int64_t NB = sg.copy ? std::max<int64_t>(1, std::min(per_chunk, (int64_t(1) << 20) / (CB * plane))) : per_chunk;
  // Accumulators of one task: [k block of its run][c][r*S + s][k in block][lane].
  const int64_t kb_size = CB * RS * KB * kDotLanes, acc_size = KT * kb_size;
  const int64_t blocks = G * cblocks * kgroups;
  std::vector<double> accs(size_t(chunks > 1 ? blocks * chunks * acc_size : 0), 0.0);
  struct Block {
    int64_t g, kb0, kb1, c0, cn;
  };
  auto block_of = [&](int64_t block) {
    const int64_t g = block / (cblocks * kgroups), cb = block / kgroups % cblocks, kg = block % kgroups;
    return Block{g, kg * KT, std::min(kblocks, (kg + 1) * KT), g * Cg + cb * CB, std::min(CB, Cg - cb * CB)};
  };
  auto reduce = [&](int64_t block, const double* acc, int64_t nacc) {
    const Block bl = block_of(block);
    for (int64_t kb = bl.kb0; kb < bl.kb1; ++kb) {
      const int64_t k0 = bl.g * Kg + kb * KB, m = std::min(KB, Kg - kb * KB);
      const double* acck = acc + (kb - bl.kb0) * kb_size;
      // Lane sums, then chunks, in fixed order: deterministic.
      for (int64_t i = 0; i < m; ++i)
        for (int64_t cl = 0; cl < bl.cn; ++cl)
          for (int64_t rs = 0; rs < RS; ++rs) {
            double s = 0.0;
            for (int64_t z = 0; z < nacc; ++z) {
              const double* l = acck + z * acc_size + ((cl * RS + rs) * m + i) * kDotLanes;
              double part = 0.0;
              for (int k = 0; k < kDotLanes; ++k) part += l[k];
              s += part;
            }
            dw[((k0 + i) * Cg + bl.c0 - bl.g * Cg + cl) * RS + rs] = static_cast<T>(s);
          }
    }
  };
  parallel_for(blocks * chunks, [&](int64_t task) {
    const int64_t block = task / chunks, chunk = task % chunks;
    const Block bl = block_of(block);
    const int64_t c0 = bl.c0, cn = bl.cn;
    std::vector<double> own(size_t(chunks > 1 ? 0 : acc_size), 0.0);
    double* acc = chunks > 1 ? accs.data() + task * acc_size : own.data();
    Taps<T> taps;
    const int64_t n_end = std::min(p.N, (chunk + 1) * per_chunk);
    for (int64_t n0 = chunk * per_chunk; n0 < n_end; n0 += NB) {
      const int64_t nn = std::min(NB, n_end - n0);
      // Planes of images n0.. for channels c0..: in x (stride C planes) or split.
      const T* xin;
      int64_t img_stride;
      if (sg.copy) {
        T* buf = scratch<T>(0, nn * cn * plane);
        for (int64_t z = 0; z < nn; ++z) split_planes(kt, sg, x + ((n0 + z) * p.C + c0) * p.H * p.W, cn, buf + z * cn * plane);
        xin = buf;
        img_stride = cn * plane;
      } else {
        xin = x + (n0 * p.C + c0) * plane;
        img_stride = p.C * plane;
      }
      for (const RowRun& run : runs)
        for (int64_t kb = bl.kb0; kb < bl.kb1; ++kb) {
          const int64_t k0 = bl.g * Kg + kb * KB, m = std::min(KB, Kg - kb * KB);
          double* acck = acc + (kb - bl.kb0) * kb_size;
          taps.clear();
          for (int64_t cl = 0; cl < cn; ++cl)
            for (int64_t r : run.rs) {
              const T* xr = xin + cl * plane + (run.a * p.stride_h + r * p.dil_h - p.pad_top) * pitch;
              for (int64_t s = 0; s < p.S; ++s) {
                const ColTap& ct = cols[size_t(s)];
                if (ct.lo >= ct.hi) continue;
                taps.add(xr + ct.offset, ct.lo, ct.hi);
                taps.acc.push_back(acck + ((cl * RS + r * p.S + s) * m) * kDotLanes);
              }
            }
          DirectDotsArgs<T> a;
          a.planes = nn;
          a.src_p = img_stride;
          a.dy_p = p.K * P * Q;
          a.rows = run.b - run.a;
          a.m = m;
          a.n = Q;
          a.ntaps = taps.size();
          a.src = taps.src.data();
          a.src_row = p.stride_h * pitch;
          a.lo = taps.lo.data();
          a.hi = taps.hi.data();
          a.dy = dy + ((n0 * p.K + k0) * P + run.a) * Q;
          a.dy_i = P * Q;
          a.dy_row = Q;
          a.acc = taps.acc.data();
          dots(a);
        }
    }
    if (chunks == 1) reduce(block, acc, 1);
  });
  if (chunks > 1) parallel_for(blocks, [&](int64_t block) { reduce(block, accs.data() + block * chunks * acc_size, chunks); });
}

#define CONVBP_INSTANTIATE(T)                                                                        \
  template void forward<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);    \
  template void backward_weight<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

namespace {

template <typename T>
void route_forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  forward<T>(kernel_table(), p, x, w, bias, y);
}
template <typename T>
void route_backward_input(const ConvParams& p, const T* dy, const T* w, T* dx) {
  backward_input<T>(kernel_table(), p, dy, w, dx);
}
template <typename T>
void route_backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw) {
  backward_weight<T>(kernel_table(), p, x, dy, dw);
}

// Every ConvParams that validates runs here (all strides, dilations, paddings,
// groups), but for absurd extents. The kernels lay out padded planes and stride
// phases whose sizes are products of a dimension's extent: the larger of the
// padded input, the input span of the outputs, the outputs plus the kernel's
// reach and the input plus one stride. A stride or dilation in the billions
// (which validate() accepts, and im2col runs) took those products past int64
// and the copy runs' 32-bit fields: a crash. So the route refuses extents past
// 2^30, or a group's planes past 2^40 elements, and auto runs im2col.
std::string refuses(const ConvParams& p, Pass, DType) {
  constexpr __int128 kMaxExtent = __int128(1) << 30, kMaxPlanes = __int128(1) << 40;
  const auto extent = [](int64_t in, int64_t pads, int64_t out, int64_t stride, int64_t taps, int64_t dil) {
    const __int128 span = __int128(out - 1) * stride + __int128(taps - 1) * dil + 1;
    return std::max({__int128(in) + pads, span, __int128(out) + __int128(taps) * dil, __int128(in) + stride});
  };
  const __int128 eh = extent(p.H, p.pad_top + p.pad_bottom, p.P(), p.stride_h, p.R, p.dil_h);
  const __int128 ew = extent(p.W, p.pad_left + p.pad_right, p.Q(), p.stride_w, p.S, p.dil_w);
  if (eh <= kMaxExtent && ew <= kMaxExtent && eh * ew * std::max(p.Cg(), p.Kg()) <= kMaxPlanes) return "";
  const auto big = [](__int128 v) { return v > kMaxExtent ? std::string("over 2^30") : std::to_string(int64_t(v)); };
  return "its padded planes would be too large for the direct kernels (extent " +
         (p.spatial_dims == 1 ? big(ew) : "(" + big(eh) + ", " + big(ew) + ")") +
         " from stride, dilation and padding; at most 2^30 per dimension and 2^40 elements per group); "
         "algo='im2col' runs it";
}

// The auto rule: a small table measured against the im2col route (medians of
// interleaved runs, one thread, float32, AVX-512, batch 1 and 8; the layers of
// benchmarks/suites.json and a sweep of grouped 3x3 layers with C/groups 2..16 at
// 14x14, 28x28, 56x56). What decides is how far im2col's GEMM degenerates: its
// reduction length is C/groups*R*S and it copies every input R*S times.
//   - depthwise (C/groups == 1): direct wins every pass by 3-40x;
//   - grouped, where the broadcast kernels fit (a group's channels fill at least
//     half the lanes: drivers/direct-grouped-bcast.cpp): direct wins fwd and
//     bwd_data at every C/groups measured (8..64 on 7x7..56x56 planes: im2col took
//     1.1-2.6x direct's time, least at 64) and bwd_weight up to C/groups 32 (1.0-1.6x;
//     at 64 im2col is faster on planes below 28x28: direct took 1.4x at 7x7);
//   - other grouped layers (the rows and dots kernels): direct wins while C/groups
//     is small; the break-even C/groups per pass
//     (direct/im2col time ratio near 1) is about 8 for fwd on planes up to 32x32
//     (4 above), for bwd_data 16 on planes up to 32x32 (0.7x at 14x14, 0.86x at
//     28x28; 8 above: 1.3x at 56x56), and for bwd_weight 8 on planes of 28x28 or
//     more (4 below: at 14x14, C/groups 8 direct took 1.2x im2col's time);
//   - dense (groups == 1): im2col, except a reduction of at most 32 spread over
//     several taps (the stems of VGG and wav2vec 2.0: C = 1..3), where im2col's
//     copy dominates: direct for bwd_weight (0.7-0.8x im2col; also at 1x1 up to
//     C = 16: on AMD Zen 5, batch 8, time of direct / im2col at 1 / 2 threads,
//     8->48 56x56 0.38 / 0.50, 16->96 at 112x112, 56x56, 28x28 0.62 / 0.67,
//     0.84 / 0.77, 0.82 / 0.83, but 24->64 112x112 1.07 / 1.05 and MobileNet's
//     first pointwise layer, 32->64 112x112, 1.20-1.52 in four runs, 1.38 / 1.59
//     at 64x64; on Zen 4 that layer had taken 0.80-0.93, so C <= 32 was the rule
//     there) and for fwd at unit
//     column stride, a reduction of at most 16, or a batch of 2 or more (direct
//     splits strided inputs first, once per task: MobileNet's stride-2 stem took
//     1.08x / 1.17x im2col's time at batch 1 on 1 / 2 threads, 0.79x / 1.06x at
//     batch 2, 0.87x / 0.86x at 4, 0.76x / 0.87x at 8). bwd_data stays with
//     im2col for dense layers (direct took 1.7-2.4x on every stem).
//     fwd also at C <= 4 with a reduction of 33..196 and output planes of 64x64 or
//     more, at any stride and batch (stems with larger kernels, where im2col copies
//     each of the few input planes R*S times and direct's strided split is shared
//     by more taps; shuffled interleaved runs, time of direct / im2col at batch 4,
//     1 / 2 threads, 112x112 outputs:
//     ResNet's 3->64 7x7 s2 0.94 / 0.91 (batch 8: 0.92 / 0.92), 3->64 5x5 s2
//     0.90 / 1.03, 3->32 5x5 s1 0.79 / 0.76, 3->32 7x7 s1 0.81 / 0.97, 1->64 7x7 s2
//     0.79 / 0.85, 4->64 7x7 s2 0.93 / 0.93, 4->64 3x3 s1 0.80 / 0.99; at batch 1
//     the same layers 1.02 / 1.06, 0.92 / 1.12, 0.83 / 0.85, 0.83 / 0.90, 0.75 / 0.85,
//     0.94 / 1.09, so no batch condition (the worst case either way is ~1.1x);
//     above either limit im2col wins: 3->32 9x9 1.16 / 1.19, 3->96 11x11 s4
//     1.05 / 1.25, 6->64 5x5 s2 1.12 / 1.15, 8->64 7x7 s2 1.18 / 1.15; and so it
//     does on smaller planes (batch 8: 56x56 outputs 3->64 7x7 s2 1.06 / 1.04,
//     4->64 3x3 1.01 / 1.21, 3->32 5x5 0.91 / 0.93; 16x16 4->64 3x3 1.33 / 1.27),
//     while 64x64 and 80x80 outputs are 0.83-1.00).
//     fwd also of 1x1 stride-1 layers with C <= 32 on output planes of 64x64 or
//     more (MobileNetV2's 16->96 expansion at 112x112, MobileNetV1's 32->64),
//     where im2col's GEMM has a depth of only C. On Zen 5 (batch 8, 1 / 2
//     threads): 32->64 112x112 0.79-0.88 / 0.74-0.90 (four runs), 64x64 0.98 /
//     0.90, 56x56 1.40 / 0.95; 32->16 224x224 0.81 / 0.71; 24->64 112x112
//     0.89 / 0.65. On Zen 4, where the limit was 16:
//     direct / im2col at 1 / 2 threads, batch 8: 16->96 112x112
//     0.86 / 0.80 (batch 1: 0.83 / 0.82), 16->32 0.74 / 0.75, 8->48 0.71 / 0.71,
//     4->64 0.71 / 0.69, 16->64 96x96 0.81 / 0.79, 16->96 80x80 0.98 / 0.85, 16->32
//     72x72 0.87 / 0.92; 56x56 0.95-1.03 and smaller planes 1.07-1.43 stay with
//     im2col, as do 24 channels (1.03 / 0.96) and MobileNetV1's 32->64 (0.82-1.10
//     in ten measurements at 1 and 2 threads, no consistent winner).
struct AutoLimit {
  int64_t grouped_cg;  // largest C/groups of a grouped convolution auto runs here
  const char* why;
};
AutoLimit grouped_limit(const ConvParams& p, Pass pass) {
  const int64_t PQ = p.P() * p.Q();
  switch (pass) {
    case Pass::Forward:
      return PQ <= 1024 ? AutoLimit{8, "output planes up to 32x32"} : AutoLimit{4, "output planes above 32x32"};
    case Pass::BackwardInput:
      return PQ <= 1024 ? AutoLimit{16, "output planes up to 32x32"} : AutoLimit{8, "output planes above 32x32"};
    default: return PQ >= 784 ? AutoLimit{8, "output planes of 28x28 or more"} : AutoLimit{4, "output planes below 28x28"};
  }
}
constexpr int64_t kDenseStridedMaxReduction = 16;
constexpr int64_t kFewChannels = 4, kFewChannelsMaxReduction = 196, kPointwiseFewChannels = 32;
constexpr int64_t kPointwiseWeightChannels = 16;  // bwd_weight of 1x1 layers
constexpr int64_t kLargeSide = 64;  // "large output planes": at least kLargeSide^2 pixels
// Dense forward convolutions auto runs direct: the three cases measured above.
bool dense_forward_direct(const ConvParams& p) {
  const int64_t Cg = p.Cg(), taps = p.R * p.S, red = Cg * taps;
  const bool large = p.P() * p.Q() >= kLargeSide * kLargeSide;
  if (taps > 1 && red <= kDenseMaxReduction) return p.stride_w == 1 || red <= kDenseStridedMaxReduction || p.N >= 2;
  if (taps > 1) return Cg <= kFewChannels && red <= kFewChannelsMaxReduction && large;
  return p.stride_h == 1 && p.stride_w == 1 && Cg <= kPointwiseFewChannels && large;
}
constexpr int64_t kBcastMaxCg = 64, kBcastWeightMaxCg = 32;
int bcast_lanes(DType dtype) {
  return dtype == DType::F32 ? kernel_table().direct<float>().bcast_lanes : kernel_table().direct<double>().bcast_lanes;
}
std::string auto_declines(const ConvParams& p, Pass pass, DType dtype) {
  const int64_t Cg = p.Cg(), taps = p.R * p.S, red = Cg * taps;
  const std::string here = " (here groups=" + std::to_string(p.groups) + ", C/groups=" + std::to_string(Cg) +
                           ", R*S=" + std::to_string(taps) + ", P*Q=" + std::to_string(p.P() * p.Q()) + ")";
  if (p.groups > 1) {
    if (Cg == 1) return "";
    if (bcast_fits(p, pass, bcast_lanes(dtype))) {
      const int64_t lim = pass == Pass::BackwardWeight ? kBcastWeightMaxCg : kBcastMaxCg;
      if (Cg <= lim) return "";
      return std::string("auto uses direct's broadcast kernels for ") + pass_name(pass) +
             " only with C/groups <= " + std::to_string(lim) + here;
    }
    const AutoLimit lim = grouped_limit(p, pass);
    if (Cg <= lim.grouped_cg) return "";
    return std::string("auto uses direct for ") + pass_name(pass) + " of grouped convolutions only with C/groups <= " +
           std::to_string(lim.grouped_cg) + " at " + lim.why + here;
  }
  if (pass == Pass::BackwardWeight && (taps > 1 ? red <= kDenseMaxReduction : Cg <= kPointwiseWeightChannels)) return "";
  if (pass == Pass::Forward && dense_forward_direct(p)) return "";
  if (pass == Pass::BackwardInput)
    return "auto uses direct for bwd_data only of grouped convolutions" + here;
  const std::string side = std::to_string(kLargeSide), large = " on output planes of " + side + "x" + side + " or more";
  return std::string("auto uses direct for ") + pass_name(pass) +
         " of dense convolutions only with C*R*S <= " + std::to_string(kDenseMaxReduction) +
         (pass == Pass::Forward ? " (<= " + std::to_string(kDenseStridedMaxReduction) +
                                      " at column stride > 1 and batch 1), or C <= " +
                                      std::to_string(kFewChannels) + " and C*R*S <= " +
                                      std::to_string(kFewChannelsMaxReduction) + large +
                                      ", over R*S > 1 taps; 1x1 at stride 1 with C <= " +
                                      std::to_string(kPointwiseFewChannels) + large
                                : " over R*S > 1 taps; 1x1 with C <= " + std::to_string(kPointwiseWeightChannels)) +
         here;
}

// The kernel family each pass runs, in the order forward / backward_input /
// backward_weight above try them.
std::string describe(const ConvParams& p, Pass pass, DType dtype) {
  const KernelTable& kt = kernel_table();
  const int cvec = dtype == DType::F32 ? kt.direct<float>().cvec_lanes : kt.direct<double>().cvec_lanes;
  const int bcast = bcast_lanes(dtype);
  if (expand_fits(p, kt, dtype == DType::F64, pass))
    return std::string("kernels: plane expand") + (pass == Pass::BackwardWeight ? " dots" : "") + " (depthwise; " +
           (pass == Pass::Forward ? "the forward pass in backward-input form with the rot180 kernel; y"
                                  : pass == Pass::BackwardWeight ? "x" : "dx") +
           " rows in vectors, the values each lane needs moved under it by lane permutes, per-lane masks; AVX-512)";
  const bool f64 = dtype == DType::F64;
  if (pass == Pass::BackwardWeight ? phases_fits(p, kt.isa, cvec) : pass == Pass::Forward && forward_phases_first(p, kt, f64))
    return "kernels: plane " + std::string(pass == Pass::Forward ? "rows" : "dots") +
           " after a split of the input into its stride phases (depthwise, planes at most " + std::to_string(cvec) +
           " wide; each phase plane one flat run, per-lane masks)";
  if (pass == Pass::Forward && plane_s2_fits(p, kt, f64))
    return std::string("kernels: plane stride-2 rows (depthwise, column stride 2, 3 kernel columns; each input row "
                       "loaded once per kernel row, its even and odd columns split by lane permutes") +
           (plane_s2_pairs(p, f64) ? "; outputs at most half a vector wide: two output rows a vector" : "") +
           "; AVX-512)";
  if (cvec_fits(p))
    return "kernels: channel-vector (depthwise; a vector holds one pixel of " + std::to_string(cvec) + " channels)";
  if (bcast_fits(p, pass, bcast))
    return "kernels: broadcast (a vector holds " + std::to_string(bcast) + " of a group's " +
           (pass == Pass::BackwardInput ? "input" : "output") + " channels; inputs broadcast)";
  // Stride-1 planes as wide as their output: the plane kernels' flat path, on ISAs
  // with per-lane masks, when the rows are narrower than a vector (any width here:
  // the text names the condition).
  const std::string flat = plane_flat(p, INT64_MAX)
                               ? "; rows narrower than a vector: the plane as one flat run, per-lane masks (AVX2, AVX-512)"
                               : "";
  if (pass == Pass::BackwardWeight)
    return plane_dots_fits(p) ? "kernels: plane dots (depthwise; every tap of a channel at once" + flat + ")"
                              : "kernels: dots (x rows times dy rows, vectors along the rows)";
  return plane_rows_fits(p) ? "kernels: plane rows (depthwise; a channel's taps in registers" + flat + ")"
                            : "kernels: rows (output rows in registers, vectors along the rows)";
}

}  // namespace

}  // namespace convbp::direct

namespace convbp {

Route make_direct_route() {
  Route r{"direct",
          direct::refuses,
          {direct::route_forward<float>, direct::route_backward_input<float>, direct::route_backward_weight<float>},
          {direct::route_forward<double>, direct::route_backward_input<double>,
           direct::route_backward_weight<double>}};
  r.auto_declines = direct::auto_declines;
  r.describe = direct::describe;
  return r;
}

}  // namespace convbp
