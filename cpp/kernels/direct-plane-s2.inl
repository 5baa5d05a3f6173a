// The "plane stride-2 rows" micro-kernel of the direct route: the forward pass of
// depthwise convolutions (multiplier 1) with column stride 2 and 3 kernel columns of
// dilation 1 (MobileNet's and most networks' strided depthwise layers), written once
// over the AVX-512 vector traits and instantiated by f32/f64-direct-plane-s2-avx512.cpp.
// Contract: direct-args.hpp ("plane stride-2 rows"). Included *inside* an ISA
// namespace (see direct-rows.inl for why): no #include, no std:: calls.
//
// Diba eq. 6 with stride 2 along the row: output column j of kernel column s reads
// input column 2j + s - left. A vector of L outputs reads 2L + 1 consecutive input
// columns from base = 2*L*k - left, so three vectors v0, v1, v2 of the input row hold
// them and two lane permutes deinterleave them: s = 0 takes the even lanes of v0:v1,
// s = 1 the odd ones, and s = 2 is s = 0 one lane on (valignd with v2's first lane).
// Each input value is loaded once per kernel row instead of once per tap, and no
// copy of the input is split into column phases first.
//
// Why: the channel-vector route spent 53% of mobilenet.dw6s2's forward time
// transposing 16 planes into pixel vectors and back, the phase route a split copy
// and masked loads. Loads take whole vectors of the plane (masked only at the plane's
// first and last elements); on a row's edge vectors zero-masked permutes drop the
// columns outside [0, W); rows outside [0, H) are skipped. Outputs at most half a
// vector wide take two output rows a vector (run_pairs).

namespace direct_plane_s2_detail {

constexpr int64_t kMaxVectors = kPlaneS2MaxVectors;

// Elements [p, p + L) of the plane X (flat): plain where they are inside its
// `size` elements, else masked to them (zero outside, not read there).
template <class VT>
inline typename VT::V load_plane(const typename VT::T* X, int64_t p, int64_t size) {
  constexpr int L = VT::L;
  if (p >= 0 && p + L <= size) return VT::load(X + p);
  return VT::load(X + p, VT::lanes(-p, size - p));
}

// The lanes of output vector k whose kernel column s reads inside [0, W), for s < 3,
// and which of v0, v1, v2 hold such a column.
template <class VT>
struct VectorCols {
  typename VT::M m[3];
  bool need[3];
  bool full;  // every lane reads inside the row for every s: no masks
  VectorCols() = default;
  VectorCols(const DirectPlaneS2Args<typename VT::T>& a, int64_t k) {
    constexpr int L = VT::L;
    const int64_t base = 2 * L * k - a.left;
    unsigned bits[3] = {0, 0, 0};
    for (int l = 0; l < L; ++l)  // every lane, also past n (s2 takes s0's next lane)
      for (int s = 0; s < 3; ++s) {
        const int64_t v = base + 2 * l + s;
        if (v >= 0 && v < a.W) bits[s] |= 1u << l;
      }
    for (int s = 0; s < 3; ++s) m[s] = VT::bits(bits[s]);
    full = bits[0] == (1u << L) - 1u && bits[1] == (1u << L) - 1u && bits[2] == (1u << L) - 1u;
    // v0 holds columns base..base+L-1, v1 the next L, v2's first lane column base+2L.
    need[0] = base + L > 0 && base < a.W;
    need[1] = base + 2 * L > 0 && base + L < a.W;
    need[2] = bits[2] >> (L - 1) & 1u;
  }
};

// channel(c, plan) for every channel, with plans of `rows` output rows made by
// make(first row): one plan for every channel where it covers the plane's m rows,
// else per channel and chunk, so a plane stays one stream (chunks over all channels
// first made mobilenet.dw2s2, 56 output rows in chunks of 32, 9% slower).
template <class Make, class Channel>
void planned_channels(int64_t channels, int64_t m, int64_t rows, Make make, Channel channel) {
  if (m <= rows) {
    const auto plan = make(0);
    for (int64_t c = 0; c < channels; ++c) channel(c, plan);
  } else {
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t first = 0; first < m; first += rows) channel(c, make(first));
  }
}

// The input rows of a chunk of output rows, the same for every channel: per output
// row and kernel row, the input row's offset in the plane, whether it is inside
// [0, H), and whether every vector any output vector loads from it lies inside the
// plane's elements (plain loads; else load_plane masks them). Why: see PairPlan.
constexpr int kRowChunk = 64;  // output rows per plan

struct RowLoad {
  int64_t off;
  bool in, plain;
};
template <class VT, int R>
struct RowPlan {
  RowLoad ld[kRowChunk][R];
  int64_t first = 0;
  int count = 0;
  RowPlan(const DirectPlaneS2Args<typename VT::T>& a, int64_t i_first, int64_t nv) : first(i_first) {
    constexpr int L = VT::L;
    const int64_t size = a.H * a.src_row;
    for (int64_t i = i_first; i < a.m && count < kRowChunk; ++i, ++count)
      for (int r = 0; r < R; ++r) {
        const int64_t h = i * a.sh + r * a.dh - a.top, row = h * a.src_row;
        RowLoad& e = ld[count][r];
        e.in = h >= 0 && h < a.H;
        e.off = e.in ? row : 0;
        e.plain = e.in && row - a.left >= 0 && row + 2 * L * (nv - 1) - a.left + 3 * L <= size;
      }
  }
};

// MI output rows of a plan from its row q, output vector k (columns [k*L, k*L + L)),
// R kernel rows. Loads take whole vectors of the plane (lanes outside the row are
// dropped by the permutes' column masks); only the plane's first and last elements
// need masked loads.
template <class VT, int R, int MI, bool Masked>
inline void rows_block(const DirectPlaneS2Args<typename VT::T>& a, const RowPlan<VT, R>& plan, const VectorCols<VT>& vc,
                       const typename VT::V* wv, typename VT::V bias, typename VT::I even, typename VT::I odd,
                       const typename VT::T* X, typename VT::T* O, int q, int64_t k) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  const int64_t base = 2 * L * k - a.left, size = a.H * a.src_row, i = plan.first + q;
  const typename VT::M m0 = vc.m[0], m1 = vc.m[1], m2 = vc.m[2];
  const bool need0 = vc.need[0], need1 = vc.need[1], need2 = vc.need[2];
  V acc[MI];
#pragma GCC unroll 8
  for (int mi = 0; mi < MI; ++mi) acc[mi] = bias;
#pragma GCC unroll 5
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int mi = 0; mi < MI; ++mi) {
      const RowLoad& e = plan.ld[q + mi][r];
      if (!e.in) continue;
      const int64_t p = e.off + base;
      const V v0 = !need0 ? VT::zero() : e.plain ? VT::load(X + p) : load_plane<VT>(X, p, size);
      const V v1 = !need1 ? VT::zero() : e.plain ? VT::load(X + p + L) : load_plane<VT>(X, p + L, size);
      const V v2 = !need2 ? VT::zero() : e.plain ? VT::load(X + p + 2 * L) : load_plane<VT>(X, p + 2 * L, size);
      // s0's lane l + 1 has s2's lane l's column. Masks only on the row's edge
      // vectors: on every vector, merge-masked FMAs made mobilenet.dw2s2 1.6x slower
      // on this Zen 5 (1.99 against 1.26 ms), zero-masked permutes 1.5x (1.89
      // against 1.28).
      const V s0 = Masked ? VT::permute2(even, v0, v1, m0) : VT::permute2(even, v0, v1);
      const V s1 = Masked ? VT::permute2(odd, v0, v1, m1) : VT::permute2(odd, v0, v1);
      const V s2 = Masked ? VT::template shift_in<1>(s0, v2, m2) : VT::template shift_in<1>(s0, v2);
      acc[mi] = VT::fma(wv[r * 3], s0, acc[mi]);
      acc[mi] = VT::fma(wv[r * 3 + 1], s1, acc[mi]);
      acc[mi] = VT::fma(wv[r * 3 + 2], s2, acc[mi]);
    }
  }
  const int64_t j0 = k * L;
  const bool whole = j0 + L <= a.n;
#pragma GCC unroll 8
  for (int mi = 0; mi < MI; ++mi) {
    T* o = O + (i + mi) * a.out_row + j0;
    if (whole) VT::store(o, acc[mi]);
    else VT::store(o, acc[mi], VT::lanes(0, a.n - j0));
  }
}

// Narrow outputs (2n + 1 <= L input columns, so 2n <= L - 1 output lanes; contiguous
// output rows, out_row == n): a vector holds two output rows, i in lanes [0, n) and
// i + 1 in [n, 2n), each input row one vector from column -left, and one two-source
// permute per tap takes the first row's columns from one and the second row's from
// the other. Why: one row per vector left 9 of 16 lanes idle on MobileNet's 14x14
// stride-2 layer (7x7 outputs), which then lost to the phase route (0.154 against
// 0.146 ms); two rows a vector: 0.119 (2 threads: 0.072 against the phase route's
// 0.093), 1 thread, old/new .so alternating.
template <class VT>
struct PairCols {
  typename VT::I idx[3];
  typename VT::M m[3];
  PairCols(const DirectPlaneS2Args<typename VT::T>& a) {
    constexpr int L = VT::L;
    const int64_t n = a.n;
    for (int s = 0; s < 3; ++s) {
      int32_t ix[L];
      unsigned bits = 0;
      for (int l = 0; l < L; ++l) {
        const int64_t j = l < n ? l : l - n;  // output column
        ix[l] = l < 2 * n ? int32_t((l < n ? 0 : L) + 2 * j + s) : 0;
        const int64_t v = 2 * j + s - a.left;  // its input column
        if (l < 2 * n && v >= 0 && v < a.W) bits |= 1u << l;
      }
      idx[s] = VT::index(ix);
      m[s] = VT::bits(bits);
    }
  }
};

// The loads of a chunk of output row pairs, the same for every channel: per pair,
// kernel row and row of the pair (a, b), the offset of input row h's vector (its
// columns from -left on) in the plane and how to load it. Only a vector that
// reaches outside the plane's elements (its first and last rows) is masked, a row
// outside [0, H) is a load with no lanes (zero). Why: the row arithmetic, bounds
// tests and the argument reloads they caused, per row and channel, made the kernel
// bound by scalar work (mobilenet.dw12s2: about 112 cycles a channel for 36 FMAs).
constexpr int kPairChunk = 16;  // pairs of output rows per plan
template <class VT>
struct PairLoad {
  int64_t off;
  typename VT::M mask;
  bool plain;
};
template <class VT, int R>
struct PairPlan {
  PairLoad<VT> ld[kPairChunk][R][2];
  typename VT::M store[kPairChunk];
  int64_t out[kPairChunk];
  int count = 0;
  PairPlan(const DirectPlaneS2Args<typename VT::T>& a, int64_t i_first) {
    constexpr int L = VT::L;
    const int64_t size = a.H * a.src_row;
    for (int64_t i0 = i_first; i0 < a.m && count < kPairChunk; i0 += 2, ++count) {
      const int64_t rows = i0 + 1 < a.m ? 2 : 1;
      for (int r = 0; r < R; ++r)
        for (int ab = 0; ab < 2; ++ab) {
          const int64_t h = (i0 + ab) * a.sh + r * a.dh - a.top, p = h * a.src_row - a.left;
          PairLoad<VT>& e = ld[count][r][ab];
          const bool in = ab < rows && h >= 0 && h < a.H;
          e.off = in ? p : 0;
          e.plain = in && p >= 0 && p + L <= size;
          e.mask = in ? VT::lanes(-p, size - p) : VT::lanes(0, 0);
        }
      store[count] = VT::lanes(0, rows * a.n);
      out[count] = i0 * a.n;
    }
  }
};

template <class VT>
inline typename VT::V pair_load(const PairLoad<VT>& e, const typename VT::T* X) {
  return e.plain ? VT::load(X + e.off) : VT::load(X + e.off, e.mask);
}

// The narrow form for `channels` planes, one vector a row pair, its loads planned
// (planned_channels).
template <class VT, int R>
void run_pairs(const DirectPlaneS2Args<typename VT::T>& a) {
  using T = typename VT::T;
  using V = typename VT::V;
  const PairCols<VT> pc(a);
  auto channel = [&](int64_t c, const PairPlan<VT, R>& plan) {
    V wv[3 * R];
    const T* w = a.w + c * a.w_c;
#pragma GCC unroll 15
    for (int t = 0; t < 3 * R; ++t) wv[t] = VT::set1(w[t]);
    const V bias = VT::set1(a.bias ? a.bias[c * a.bias_c] : T(0));
    const T* X = a.src + c * a.src_c;
    T* O = a.out + c * a.out_c;
    for (int q = 0; q < plan.count; ++q) {
      V acc = bias;
#pragma GCC unroll 5
      for (int r = 0; r < R; ++r) {
        const V va = pair_load<VT>(plan.ld[q][r][0], X), vb = pair_load<VT>(plan.ld[q][r][1], X);
#pragma GCC unroll 3
        for (int s = 0; s < 3; ++s) acc = VT::fma(wv[r * 3 + s], VT::permute2(pc.idx[s], va, vb, pc.m[s]), acc);
      }
      VT::store(O + plan.out[q], acc, plan.store[q]);
    }
  };
  planned_channels(a.channels, a.m, 2 * kPairChunk, [&](int64_t first) { return PairPlan<VT, R>(a, first); }, channel);
}

// Channel by channel: its weights in registers, then its output rows, two a vector
// where they fit (run_pairs), else in vectors of L columns (rows_block).
template <class VT, int R>
void run(const DirectPlaneS2Args<typename VT::T>& a) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L, MI = 4;
  if (2 * a.n + 1 <= L && a.out_row == a.n) return run_pairs<VT, R>(a);
  int32_t ie[L], io[L];
  for (int l = 0; l < L; ++l) ie[l] = 2 * l, io[l] = 2 * l + 1;
  const typename VT::I even = VT::index(ie), odd = VT::index(io);
  const int64_t nv = (a.n + L - 1) / L;
  if (nv > kMaxVectors) return;  // the driver's plane_s2_fits keeps rows within kMaxVectors
  VectorCols<VT> cols[kMaxVectors];
  for (int64_t k = 0; k < nv; ++k) cols[k] = VectorCols<VT>(a, k);
  auto channel = [&](int64_t c, const RowPlan<VT, R>& plan) {
    V wv[3 * R];
    const T* w = a.w + c * a.w_c;
#pragma GCC unroll 15
    for (int t = 0; t < 3 * R; ++t) wv[t] = VT::set1(w[t]);
    const V bias = VT::set1(a.bias ? a.bias[c * a.bias_c] : T(0));
    const T* X = a.src + c * a.src_c;
    T* O = a.out + c * a.out_c;
    for (int64_t k = 0; k < nv; ++k) {
      const VectorCols<VT>& vc = cols[k];
      int q = 0;
      if (vc.full) {
        for (; q + MI <= plan.count; q += MI) rows_block<VT, R, MI, false>(a, plan, vc, wv, bias, even, odd, X, O, q, k);
        for (; q < plan.count; ++q) rows_block<VT, R, 1, false>(a, plan, vc, wv, bias, even, odd, X, O, q, k);
      } else {
        for (; q + MI <= plan.count; q += MI) rows_block<VT, R, MI, true>(a, plan, vc, wv, bias, even, odd, X, O, q, k);
        for (; q < plan.count; ++q) rows_block<VT, R, 1, true>(a, plan, vc, wv, bias, even, odd, X, O, q, k);
      }
    }
  };
  planned_channels(a.channels, a.m, kRowChunk, [&](int64_t first) { return RowPlan<VT, R>(a, first, nv); }, channel);
}

}  // namespace direct_plane_s2_detail

template <class VT>
void direct_plane_s2(const DirectPlaneS2Args<typename VT::T>& a) {
  using namespace direct_plane_s2_detail;
  if (a.channels <= 0 || a.m <= 0 || a.n <= 0) return;
  switch (a.rows) {
    case 1: run<VT, 1>(a); break;
    case 2: run<VT, 2>(a); break;
    case 3: run<VT, 3>(a); break;
    case 4: run<VT, 4>(a); break;
    case 5: run<VT, 5>(a); break;
    default: break;  // the driver's plane_s2_fits keeps rows in [1, kPlaneS2MaxRows]
  }
}
