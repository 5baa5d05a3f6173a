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
struct MaskMemo {
  static constexpr int kKey = 6 + 4 * 12;
  int64_t key[kKey];
  bool valid = false;
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
  bool same = memo.valid;
  for (int i = 0; i < k && same; ++i) same = memo.key[i] == key[i];
  if (!same) {
    for (int c = 0; c < TC; ++c) tap_bits<VT::L>(memo.bits, c, nb, r0, total, n, rlo[c], rhi[c], lo[c], hi[c]);
    for (int i = 0; i < k; ++i) memo.key[i] = key[i];
    memo.valid = true;
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

template <class VT, int TC>
void rows_tile(const DirectPlaneRowsArgs<typename VT::T>& a, int64_t t0, bool init) {
  using M = typename VT::M;
  constexpr int L = VT::L, CH = kShare<VT>;
  const int64_t total = a.m * a.n, nb = (total + L - 1) / L;
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

template <class VT, int TC>
void dots_tile(const DirectPlaneDotsArgs<typename VT::T>& a, int64_t t0, int64_t r0, int64_t r1) {
  using M = typename VT::M;
  constexpr int L = VT::L;
  // Two channels' TC accumulators must fit beside the loaded vectors.
  constexpr int CH = TC <= 10 ? kShare<VT> : 1;
  // The rows some tap reads, [r0, r1), as one flat run.
  const int64_t first = r0 * a.n, total = (r1 - r0) * a.n, nb = (total + L - 1) / L;
  M mk[kMaxBlocks][TC];
  tile_masks<VT, TC>(mk, nb, r0, total, a.n, a.rlo + t0, a.rhi + t0, a.lo + t0, a.hi + t0);
  const M tail = VT::lanes(0, total - (nb - 1) * L);
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
