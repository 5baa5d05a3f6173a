// The "flat plane" paths of the plane-rows and plane-dots micro-kernels (depthwise
// convolutions, contracts in direct-args.hpp), taken when the rows of a small
// plane are narrower than a vector (n < L) and contiguous with each other:
// src_row == n == out_row (rows kernel) or src_row == n == dy_row (dots kernel).
// That is every stride-1 layer whose output width equals its input width ("same"
// padding, symmetric or not) in all three passes. Included by direct-plane-rows.inl and direct-plane-dots.inl, *inside* an
// ISA namespace: no #include, no std:: calls.
//
// Why: a 7x7 plane has rows of 7 pixels, so the row kernels leave 9 of 16 lanes idle
// (MobileNet's last depthwise layer ran at 0.6-0.9x PyTorch), and the channel-vector
// kernels spend most of their time interleaving planes. Here the plane is one flat
// run of m*n pixels: output pixel f = i*n + j reads src[off[t] + f], one vector of L
// consecutive pixels per tap, with a per-lane mask (VT::bits) that drops the lanes
// whose (i, j) is outside the tap's row or column range. The masks depend only on
// the geometry, so they are built once per call and reused by every channel (and
// image); a masked-off lane is never read, so padding costs no memory access and
// needs no zero-filled copy. Only ISAs whose masks can hold any lane pattern
// (VT::kBits: AVX-512, AVX2) take these paths.

#include "kernels/equal-chunks.inl"

namespace direct_plane_flat_detail {

// Flat runs of at most kMaxBlocks vectors: the mask table lives on the stack.
constexpr int64_t kMaxBlocks = 64;

// The lanes of vector b of a flat run of `total` pixels (rows of n, from row r0)
// that a tap with row range [rlo, rhi) and column range [lo, hi) adds to, as bits,
// for every b < nb: one pass over the pixels, no division.
template <int L>
void tap_bits(unsigned (*bits)[12], int c, int64_t nb, int64_t r0, int64_t total, int64_t n, int64_t rlo,
              int64_t rhi, int64_t lo, int64_t hi) {
  int64_t i = r0, j = 0, f = 0;
  for (int64_t b = 0; b < nb; ++b) {
    unsigned m = 0;
    for (int l = 0; l < L && f < total; ++l, ++f) {
      if (i >= rlo && i < rhi && j >= lo && j < hi) m |= 1u << l;
      if (++j == n) {
        j = 0;
        ++i;
      }
    }
    bits[b][c] = m;
  }
}

// The mask table of a tile (TC taps from t0, vectors [0, nb) of the run): each
// thread keeps the last table it built, as bits, with the geometry that made it,
// and rebuilds only when the geometry changes. Why: the table costs ~2 us for a
// 14x14 plane (9 taps x 208 lanes of a branchy scalar loop), and every task of
// every call paid it: 20% of mobilenet.dw7's forward (48 tasks per call).
// A thread's memo of the last geometry it built something for: hit(key) tells
// whether key equals the stored one, store(key) keeps it.
template <int K>
struct KeyMemo {
  static constexpr int kKey = K;
  int64_t key[K];
  bool valid = false;
  bool hit(const int64_t* k, int n) const {
    bool same = valid;
    for (int i = 0; i < n && same; ++i) same = key[i] == k[i];
    return same;
  }
  void store(const int64_t* k, int n) {
    for (int i = 0; i < n; ++i) key[i] = k[i];
    valid = true;
  }
};

struct MaskMemo : KeyMemo<6 + 4 * 12> {
  unsigned bits[kMaxBlocks][12];
};

template <class VT, int TC>
void tile_masks(typename VT::M (*mk)[TC], int64_t nb, int64_t r0, int64_t total, int64_t n, const int64_t* rlo,
                const int64_t* rhi, const int64_t* lo, const int64_t* hi) {
  thread_local MaskMemo memo;
  int64_t key[MaskMemo::kKey];
  int k = 0;
  key[k++] = VT::L, key[k++] = TC, key[k++] = nb, key[k++] = r0, key[k++] = total, key[k++] = n;
  for (int c = 0; c < TC; ++c) key[k++] = rlo[c], key[k++] = rhi[c], key[k++] = lo[c], key[k++] = hi[c];
  if (!memo.hit(key, k)) {
    for (int c = 0; c < TC; ++c) tap_bits<VT::L>(memo.bits, c, nb, r0, total, n, rlo[c], rhi[c], lo[c], hi[c]);
    memo.store(key, k);
  }
  for (int64_t b = 0; b < nb; ++b)
    for (int c = 0; c < TC; ++c) mk[b][c] = VT::bits(memo.bits[b][c]);
}

// Channels that share each mask load: masks come from a table in memory, and on
// Zen 4 a 3x3 tile's 36 mask loads cost as much as a quarter of its time, so where
// there are registers for two channels' weights and accumulators (AVX-512: 32) each
// mask serves two channels. Measured, 1024 channels of 7x7, one thread, ns per
// channel: 21.3 -> 18.2 (unmasked loads, the floor: 16.8).
template <class VT>
constexpr int kShare = VT::kAcc >= 24 ? 2 : 1;

// MB vectors of outputs of CH channels at once: MB*CH independent FMA chains hide
// the FMA latency.
template <class VT, int TC, int MB, int CH>
inline void rows_blocks(const typename VT::V (*wv)[TC], const typename VT::M (*mk)[TC], const int64_t* offs,
                        const typename VT::T* bias, bool init, const typename VT::T* const* src,
                        typename VT::T* const* out, int64_t b0, int64_t nb, typename VT::M tail) {
  using V = typename VT::V;
  using T = typename VT::T;
  constexpr int L = VT::L;
  V acc[CH][MB];
#pragma GCC unroll 2
  for (int u = 0; u < CH; ++u)
#pragma GCC unroll 8
    for (int mb = 0; mb < MB; ++mb) {
      T* o = out[u] + (b0 + mb) * L;
      acc[u][mb] = init ? VT::set1(bias[u]) : (b0 + mb + 1 < nb ? VT::load(o) : VT::load(o, tail));
    }
#pragma GCC unroll 12
  for (int c = 0; c < TC; ++c)
#pragma GCC unroll 8
    for (int mb = 0; mb < MB; ++mb) {
      const typename VT::M m = mk[b0 + mb][c];
#pragma GCC unroll 2
      for (int u = 0; u < CH; ++u)
        acc[u][mb] = VT::fma(wv[u][c], VT::load(src[u] + offs[c] + (b0 + mb) * L, m), acc[u][mb]);
    }
#pragma GCC unroll 2
  for (int u = 0; u < CH; ++u)
#pragma GCC unroll 8
    for (int mb = 0; mb < MB; ++mb) {
      T* o = out[u] + (b0 + mb) * L;
      if (b0 + mb + 1 < nb) VT::store(o, acc[u][mb]);
      else VT::store(o, acc[u][mb], tail);
    }
}

template <class VT, int TC, int CH>
void rows_channels(const DirectPlaneRowsArgs<typename VT::T>& a, const typename VT::M (*mk)[TC], int64_t t0, bool init,
                   int64_t ch, int64_t nb, typename VT::M tail) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int MB = 4;
  V wv[CH][TC];
  T bias[CH];
  const T* src[CH];
  T* out[CH];
#pragma GCC unroll 2
  for (int u = 0; u < CH; ++u) {
    const T* w = a.w + (ch + u) * a.w_c;
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) wv[u][c] = VT::set1(w[a.widx[t0 + c]]);
    bias[u] = a.bias ? a.bias[(ch + u) * a.bias_c] : T(0);
    src[u] = a.src + (ch + u) * a.src_c;
    out[u] = a.out + (ch + u) * a.out_c;
  }
  const int64_t* offs = a.off + t0;
  int64_t b = 0;
  for (; b + MB <= nb; b += MB) rows_blocks<VT, TC, MB, CH>(wv, mk, offs, bias, init, src, out, b, nb, tail);
  switch (nb - b) {
    case 1: rows_blocks<VT, TC, 1, CH>(wv, mk, offs, bias, init, src, out, b, nb, tail); break;
    case 2: rows_blocks<VT, TC, 2, CH>(wv, mk, offs, bias, init, src, out, b, nb, tail); break;
    case 3: rows_blocks<VT, TC, 3, CH>(wv, mk, offs, bias, init, src, out, b, nb, tail); break;
    default: break;
  }
}

// ---- Tap runs (AVX-512: VT::kShiftIn) ----
//
// On this Zen 5 host a 512-bit load issues once per cycle, half the FMA rate, and
// the paths above load one vector per FMA (plus their masks): 7x7 planes took 16.5 ns
// (about 72 cycles) a channel for 36 FMAs. The taps of a 3-wide kernel row read three
// consecutive pixels, so they are a *run*: one vector U of the row's first tap and the
// next vector N give the other two by shift_in<1> and shift_in<2> (one valignd each,
// a shuffle port), and N is the next block's U. A run of three taps then costs about
// one load per block instead of three.
//
// The masks change form too. The loaded vectors hold zeros outside the source pixels
// that some tap of the tile reads ([g0, g1), flat), which is what the row ranges
// (rlo, rhi) would have dropped, so only the column ranges remain: a mask per block
// and run position, and one per block and run for the loads, tabulated once per
// geometry (RunPlan). run_plan checks, pixel by pixel, that this gives exactly the
// masks of the contract; where it does not (dilated rows, runs cut by a chunk, other
// paddings) the tile takes the path above. 7x7 planes: 11.7 ns a channel.
constexpr int kRun = 3;

// VT::kShiftIn where VT has it, else false (only the AVX-512 traits do).
template <class VT>
constexpr auto has_shift_in(int) -> decltype(VT::kShiftIn, bool()) {
  return VT::kShiftIn;
}
template <class VT>
constexpr bool has_shift_in(long) {
  return false;
}

constexpr int kMaxRuns = 4;  // runs in a chunk of at most 12 taps

// A compile-time bool as a type, for generic lambdas.
template <bool B>
struct BoolTag {
  static constexpr bool value = B;
};

struct RunPlan {
  bool ok = false;
  // Lanes as bits, per block b of the flat run: lm[b][q], the lanes of run q's source
  // vector at block b that lie in [g0, g1), the flat source pixels any tap reads;
  // cm[b][s], the lanes whose column is in run position s's range (and < total).
  unsigned short lm[kMaxBlocks + 1][kMaxRuns];
  unsigned short cm[kMaxBlocks][kRun];
  // inner[b]: every run's load at block b is whole (lm all lanes), so a block
  // whose next loads are all inner takes plain loads with no test per run.
  bool inner[kMaxBlocks + 1];
  // Shift s of a run is the run's tap perm[s]: s, or kRun - 1 - s where the offsets
  // go down (backward-input's rot180 taps).
  int perm[kRun];
};

struct RunMemo : KeyMemo<5 + 5 * 12> {
  RunPlan plan;
};

// Whether the TC taps are runs of kRun (offsets one apart; rot180's go down, then
// perm[s] = kRun - 1 - s is the tap at shift s, else perm[s] = s) with the same
// columns at each position in every run and, where same_rows, the same rows within
// a run. For the flat and the plane dots kernels' run paths.
template <int TC>
bool tap_runs(const int64_t* off, const int64_t* lo, const int64_t* hi, const int64_t* rlo, const int64_t* rhi,
              bool same_rows, int* perm) {
  if (TC % kRun != 0) return false;
  const bool down = off[1] < off[0];
  for (int s = 0; s < kRun; ++s) perm[s] = down ? kRun - 1 - s : s;
  for (int c = 0; c < TC; ++c) {
    const int q = c - c % kRun, s = c % kRun, k = down ? kRun - 1 - s : s;  // tap c is shift k of its run
    if (off[c] != off[q + perm[0]] + k || lo[c] != lo[s] || hi[c] != hi[s]) return false;
    if (same_rows && (rlo[c] != rlo[q] || rhi[c] != rhi[q])) return false;
  }
  return true;
}

// Ascending order of n values (n is at most a few dozen: insertion sort).
inline void sort_small(int64_t* v, int n) {
  for (int i = 1; i < n; ++i)
    for (int k = i; k > 0 && v[k - 1] > v[k]; --k) {
      const int64_t t = v[k - 1];
      v[k - 1] = v[k];
      v[k] = t;
    }
}

// The run plan of a tile of TC taps over the flat pixels [0, total) of rows r0, ...
// (output pixel f reads source pixel off[c] + f), memoized per thread as MaskMemo.
template <int L, int TC>
const RunPlan& run_plan(int64_t r0, int64_t total, int64_t n, const int64_t* off, const int64_t* rlo,
                        const int64_t* rhi, const int64_t* lo, const int64_t* hi) {
  thread_local RunMemo memo;
  int64_t key[RunMemo::kKey];
  int k = 0;
  key[k++] = L, key[k++] = TC, key[k++] = r0, key[k++] = total, key[k++] = n;
  for (int c = 0; c < TC; ++c) key[k++] = off[c], key[k++] = rlo[c], key[k++] = rhi[c], key[k++] = lo[c], key[k++] = hi[c];
  if (memo.hit(key, k)) return memo.plan;
  RunPlan& P = memo.plan;
  P = RunPlan{};
  const int64_t nb = (total + L - 1) / L;
  bool ok = nb <= kMaxBlocks && tap_runs<TC>(off, lo, hi, rlo, rhi, false, P.perm);
  int64_t g0 = 0, g1 = 0;
  bool any = false;
  for (int c = 0; c < TC && ok; ++c)
    for (int64_t f = 0; f < total; ++f) {
      const int64_t i = r0 + f / n, j = f % n;
      if (i < rlo[c] || i >= rhi[c] || j < lo[c] || j >= hi[c]) continue;
      const int64_t x = off[c] + f;
      g0 = any && g0 < x ? g0 : x;
      g1 = any && g1 > x + 1 ? g1 : x + 1;
      any = true;
    }
  ok = ok && any;
  for (int c = 0; c < TC && ok; ++c)
    for (int64_t f = 0; f < total && ok; ++f) {
      const int64_t i = r0 + f / n, j = f % n, x = off[c] + f;
      const bool col = j >= lo[c] && j < hi[c];
      const bool contract = col && i >= rlo[c] && i < rhi[c];
      ok = contract == (col && x >= g0 && x < g1);
    }
  if (ok) {
    for (int64_t b = 0; b <= nb; ++b)
      for (int q = 0; q < TC / kRun; ++q) {
        unsigned m = 0;
        for (int l = 0; l < L; ++l) {
          const int64_t x = off[q * kRun + P.perm[0]] + b * L + l;
          if (x >= g0 && x < g1) m |= 1u << l;
        }
        P.lm[b][q] = static_cast<unsigned short>(m);
      }
    for (int64_t b = 0; b <= nb; ++b) {
      bool all = true;
      for (int q = 0; q < TC / kRun; ++q) all = all && P.lm[b][q] == (1u << L) - 1u;
      P.inner[b] = all;
    }
    for (int64_t b = 0; b < nb; ++b)
      for (int s = 0; s < kRun; ++s) {
        unsigned m = 0;
        for (int l = 0; l < L && b * L + l < total; ++l) {
          const int64_t j = (b * L + l) % n;
          if (j >= lo[P.perm[s]] && j < hi[P.perm[s]]) m |= 1u << l;
        }
        P.cm[b][s] = static_cast<unsigned short>(m);
      }
  }
  P.ok = ok;
  memo.store(key, k);
  return P;
}

// A rows tile on tap runs. One accumulator per run, so a block's chains are 3 FMAs
// long, added in run order at the end (one chain of 9 per block, even over two
// channels at once, was slower: 12.7 against 11.7 ns a channel on 7x7 planes).
template <class VT, int TC>
void rows_run_tile(const DirectPlaneRowsArgs<typename VT::T>& a, const RunPlan& P, int64_t t0, bool init) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L, NR = TC / kRun;
  constexpr unsigned kAll = (1u << L) - 1u;
  const int64_t total = a.m * a.n, nb = (total + L - 1) / L;
  const M tail = VT::lanes(0, total - (nb - 1) * L);
  int64_t d[NR], widx[TC];  // the runs' first source pixels; the weights in shift order
  for (int q = 0; q < NR; ++q) {
    d[q] = a.off[t0 + q * kRun + P.perm[0]];
    for (int s = 0; s < kRun; ++s) widx[q * kRun + s] = a.widx[t0 + q * kRun + P.perm[s]];
  }
  for (int64_t ch = 0; ch < a.channels; ++ch) {
    const T* w = a.w + ch * a.w_c;
    V wv[TC];
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) wv[c] = VT::set1(w[widx[c]]);
    const V bias = VT::set1(a.bias ? a.bias[ch * a.bias_c] : T(0));
    const T* src = a.src + ch * a.src_c;
    T* out = a.out + ch * a.out_c;
    V u[NR];
#pragma GCC unroll 4
    for (int q = 0; q < NR; ++q) u[q] = VT::keep(VT::load(src + d[q], VT::bits(P.lm[0][q])));
    auto block = [&](int64_t b, auto plain) {
      constexpr bool kPlain = decltype(plain)::value;
      const unsigned short* lm = P.lm[b + 1];
      const M c0 = VT::bits(P.cm[b][0]), c1 = VT::bits(P.cm[b][1]), c2 = VT::bits(P.cm[b][2]);
      V acc[NR];
#pragma GCC unroll 4
      for (int q = 0; q < NR; ++q) {
        // Plain loads where every lane is in [g0, g1): on this Zen 5 a masked load
        // costs more (7x7 planes: 13.0 -> 12.1 ns a channel, 14x14: 37.6 -> 30.6).
        const T* ps = src + d[q] + (b + 1) * L;
        const V nx = VT::keep(kPlain || lm[q] == kAll ? VT::load(ps) : VT::load(ps, VT::bits(lm[q])));
        const V start = q > 0 ? VT::zero() : (init ? bias : (b + 1 < nb ? VT::load(out + b * L) : VT::load(out + b * L, tail)));
        acc[q] = VT::fma(wv[q * kRun], u[q], start, c0);
        acc[q] = VT::fma(wv[q * kRun + 1], VT::template shift_in<1>(u[q], nx), acc[q], c1);
        acc[q] = VT::fma(wv[q * kRun + 2], VT::template shift_in<2>(u[q], nx), acc[q], c2);
        u[q] = nx;
      }
#pragma GCC unroll 4
      for (int q = 1; q < NR; ++q) acc[0] = VT::add(acc[0], acc[q]);
      if (b + 1 < nb) VT::store(out + b * L, acc[0]);
      else VT::store(out + b * L, acc[0], tail);
    };
    // Blocks whose next loads are all whole skip the test per run (14x14 planes,
    // 10 of 13 blocks: 27.9 -> 25.6 ns a channel in an isolated loop).
    for (int64_t b = 0; b < nb; ++b) {
      if (P.inner[b + 1]) block(b, BoolTag<true>{});
      else block(b, BoolTag<false>{});
    }
  }
}

template <class VT, int TC>
void rows_tile(const DirectPlaneRowsArgs<typename VT::T>& a, int64_t t0, bool init) {
  using M = typename VT::M;
  constexpr int L = VT::L, CH = kShare<VT>;
  const int64_t total = a.m * a.n, nb = (total + L - 1) / L;
  if constexpr (has_shift_in<VT>(0) && TC % kRun == 0) {
    const RunPlan& P = run_plan<L, TC>(0, total, a.n, a.off + t0, a.rlo + t0, a.rhi + t0, a.lo + t0, a.hi + t0);
    if (P.ok) {
      rows_run_tile<VT, TC>(a, P, t0, init);
      return;
    }
  }
  M mk[kMaxBlocks][TC];
  tile_masks<VT, TC>(mk, nb, 0, total, a.n, a.rlo + t0, a.rhi + t0, a.lo + t0, a.hi + t0);
  const M tail = VT::lanes(0, total - (nb - 1) * L);
  int64_t ch = 0;
  for (; ch + CH <= a.channels; ch += CH) rows_channels<VT, TC, CH>(a, mk, t0, init, ch, nb, tail);
  for (; ch < a.channels; ++ch) rows_channels<VT, TC, 1>(a, mk, t0, init, ch, nb, tail);
}

template <class VT, int TC, int CH>
void dots_channels(const DirectPlaneDotsArgs<typename VT::T>& a, const typename VT::M (*mk)[TC], int64_t t0,
                   int64_t first, int64_t ch, int64_t nb, typename VT::M tail) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  const int64_t* offs = a.off + t0;
  V acc[CH][TC];
#pragma GCC unroll 2
  for (int u = 0; u < CH; ++u)
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) acc[u][c] = VT::zero();
  for (int64_t z = 0; z < a.planes; ++z) {
    const T* src[CH];
    const T* dy[CH];
#pragma GCC unroll 2
    for (int u = 0; u < CH; ++u) {
      src[u] = a.src + (ch + u) * a.src_c + z * a.src_p + first;
      dy[u] = a.dy + (ch + u) * a.dy_c + z * a.dy_p + first;
    }
    for (int64_t b = 0; b < nb; ++b) {
      V d[CH];
#pragma GCC unroll 2
      for (int u = 0; u < CH; ++u) d[u] = b + 1 < nb ? VT::load(dy[u] + b * L) : VT::load(dy[u] + b * L, tail);
#pragma GCC unroll 12
      for (int c = 0; c < TC; ++c) {
        const typename VT::M m = mk[b][c];
#pragma GCC unroll 2
        for (int u = 0; u < CH; ++u) acc[u][c] = VT::fma(d[u], VT::load(src[u] + offs[c] + b * L, m), acc[u][c]);
      }
    }
  }
#pragma GCC unroll 2
  for (int u = 0; u < CH; ++u) {
    T* out = a.out + (ch + u) * a.out_c + t0;
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) {
      const T s = VT::sum(acc[u][c]);
      out[c] = a.accumulate ? out[c] + s : s;
    }
  }
}

// CH channels of a dots tile on tap runs (as rows_run_tile): per block, one dy
// vector, one load per run and two lane shifts, each tap's accumulator added with
// its column mask.
template <class VT, int TC, int CH>
void dots_run_channels(const DirectPlaneDotsArgs<typename VT::T>& a, const RunPlan& P, const int64_t* d, int64_t t0,
                       int64_t first, int64_t ch, int64_t nb, typename VT::M tail) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L, NR = TC / kRun;
  constexpr unsigned kAll = (1u << L) - 1u;
  V acc[CH][TC];  // in shift order: acc[k][q * kRun + s] is tap q * kRun + perm[s]
#pragma GCC unroll 2
  for (int k = 0; k < CH; ++k)
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) acc[k][c] = VT::zero();
  for (int64_t z = 0; z < a.planes; ++z) {
    const T* src[CH];
    const T* dy[CH];
    V u[CH][NR];
#pragma GCC unroll 2
    for (int k = 0; k < CH; ++k) {
      src[k] = a.src + (ch + k) * a.src_c + z * a.src_p + first;
      dy[k] = a.dy + (ch + k) * a.dy_c + z * a.dy_p + first;
#pragma GCC unroll 4
      for (int q = 0; q < NR; ++q) u[k][q] = VT::keep(VT::load(src[k] + d[q], VT::bits(P.lm[0][q])));
    }
    for (int64_t b = 0; b < nb; ++b) {
      const unsigned short* lm = P.lm[b + 1];
      const M c0 = VT::bits(P.cm[b][0]), c1 = VT::bits(P.cm[b][1]), c2 = VT::bits(P.cm[b][2]);
#pragma GCC unroll 2
      for (int k = 0; k < CH; ++k) {
        const V g = b + 1 < nb ? VT::load(dy[k] + b * L) : VT::load(dy[k] + b * L, tail);
#pragma GCC unroll 4
        for (int q = 0; q < NR; ++q) {
          const T* ps = src[k] + d[q] + (b + 1) * L;
          const V nx = VT::keep(lm[q] == kAll ? VT::load(ps) : VT::load(ps, VT::bits(lm[q])));
          acc[k][q * kRun] = VT::fma(g, u[k][q], acc[k][q * kRun], c0);
          acc[k][q * kRun + 1] = VT::fma(g, VT::template shift_in<1>(u[k][q], nx), acc[k][q * kRun + 1], c1);
          acc[k][q * kRun + 2] = VT::fma(g, VT::template shift_in<2>(u[k][q], nx), acc[k][q * kRun + 2], c2);
          u[k][q] = nx;
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int k = 0; k < CH; ++k) {
    T* out = a.out + (ch + k) * a.out_c + t0;
#pragma GCC unroll 4
    for (int q = 0; q < NR; ++q)
#pragma GCC unroll 3
      for (int s = 0; s < kRun; ++s) {
        const T v = VT::sum(acc[k][q * kRun + s]);
        T& o = out[q * kRun + P.perm[s]];
        o = a.accumulate ? o + v : v;
      }
  }
}

template <class VT, int TC>
void dots_run_tile(const DirectPlaneDotsArgs<typename VT::T>& a, const RunPlan& P, int64_t t0, int64_t first,
                   int64_t nb, typename VT::M tail) {
  constexpr int NR = TC / kRun, CH = TC <= 9 ? 2 : 1;
  int64_t d[NR];
  for (int q = 0; q < NR; ++q) d[q] = a.off[t0 + q * kRun + P.perm[0]];
  int64_t ch = 0;
  for (; ch + CH <= a.channels; ch += CH) dots_run_channels<VT, TC, CH>(a, P, d, t0, first, ch, nb, tail);
  for (; ch < a.channels; ++ch) dots_run_channels<VT, TC, 1>(a, P, d, t0, first, ch, nb, tail);
}

template <class VT, int TC>
void dots_tile(const DirectPlaneDotsArgs<typename VT::T>& a, int64_t t0, int64_t r0, int64_t r1) {
  using M = typename VT::M;
  constexpr int L = VT::L;
  // Two channels' TC accumulators must fit beside the loaded vectors.
  constexpr int CH = TC <= 10 ? kShare<VT> : 1;
  // The rows some tap reads, [r0, r1), as one flat run.
  const int64_t first = r0 * a.n, total = (r1 - r0) * a.n, nb = (total + L - 1) / L;
  const M tail = VT::lanes(0, total - (nb - 1) * L);
  if constexpr (has_shift_in<VT>(0) && TC % kRun == 0) {
    const RunPlan& P = run_plan<L, TC>(r0, total, a.n, a.off + t0, a.rlo + t0, a.rhi + t0, a.lo + t0, a.hi + t0);
    if (P.ok) {
      dots_run_tile<VT, TC>(a, P, t0, first, nb, tail);
      return;
    }
  }
  M mk[kMaxBlocks][TC];
  tile_masks<VT, TC>(mk, nb, r0, total, a.n, a.rlo + t0, a.rhi + t0, a.lo + t0, a.hi + t0);
  int64_t ch = 0;
  for (; ch + CH <= a.channels; ch += CH) dots_channels<VT, TC, CH>(a, mk, t0, first, ch, nb, tail);
  for (; ch < a.channels; ++ch) dots_channels<VT, TC, 1>(a, mk, t0, first, ch, nb, tail);
}

// The plane kernels take their taps in equal_chunks of at most 12 (a 3x3 kernel
// is one chunk).
template <class VT>
struct RowsChunk {
  const DirectPlaneRowsArgs<typename VT::T>& a;
  template <int TC>
  void operator()(int64_t t0, int64_t k) const {
    rows_tile<VT, TC>(a, t0, k == 0);  // the first chunk starts from the bias, the others add
  }
};

template <class VT>
struct DotsChunk {
  const DirectPlaneDotsArgs<typename VT::T>& a;
  int64_t r0, r1;
  template <int TC>
  void operator()(int64_t t0, int64_t) const {
    dots_tile<VT, TC>(a, t0, r0, r1);
  }
};

}  // namespace direct_plane_flat_detail

// True when the rows call was done here (VT has per-lane masks, the plane's rows
// are contiguous in src and out, and it fits the mask table).
template <class VT>
bool direct_plane_rows_flat(const DirectPlaneRowsArgs<typename VT::T>& a) {
  namespace d = direct_plane_flat_detail;
  if constexpr (!VT::kBits) {
    return false;
  } else {
    if (a.n >= VT::L || a.src_row != a.n || a.out_row != a.n || a.m * a.n > d::kMaxBlocks * VT::L) return false;
    equal_chunks<12>(a.ntaps, d::RowsChunk<VT>{a});
    return true;
  }
}

// The same for the dots kernel: src_row == n == dy_row, and the rows any tap reads fit.
template <class VT>
bool direct_plane_dots_flat(const DirectPlaneDotsArgs<typename VT::T>& a) {
  namespace d = direct_plane_flat_detail;
  if constexpr (!VT::kBits) {
    return false;
  } else {
    if (a.n >= VT::L || a.src_row != a.n || a.dy_row != a.n) return false;
    int64_t r0 = 0, r1 = 0;
    bool any = false;
    for (int64_t t = 0; t < a.ntaps; ++t) {
      if (a.lo[t] >= a.hi[t] || a.rlo[t] >= a.rhi[t]) continue;
      r0 = any ? (a.rlo[t] < r0 ? a.rlo[t] : r0) : a.rlo[t];
      r1 = any ? (a.rhi[t] > r1 ? a.rhi[t] : r1) : a.rhi[t];
      any = true;
    }
    if (!any || (r1 - r0) * a.n > d::kMaxBlocks * VT::L) return false;
    equal_chunks<12>(a.ntaps, d::DotsChunk<VT>{a, r0, r1});
    return true;
  }
}
