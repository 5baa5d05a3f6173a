// The "plane expand" micro-kernels of the direct route: backward-input of depthwise
// convolutions (multiplier 1; the forward pass at stride 1 runs in the same form, see
// drivers/direct-depthwise-expand.cpp) and their backward-weight (the dots), written
// once over a vector-traits class VT
// (vec-<isa>.hpp) and instantiated by each ISA's f32/f64-direct-plane-expand-<isa>.cpp.
// Contract: direct-args.hpp ("plane expand"). Included *inside* an ISA namespace
// (see direct-rows.inl for why): no #include, no std:: calls.
//
// The seeds' gather form of backward-input (Diba eqs. 24-29: dx is the full
// correlation of the stride-dilated dy with rot180(w)) split by output phase, with
// the phases living in the lanes: dx lane v of row h takes tap (r, s) where
// (h + top - r*dh) and (v + left - s*dw) are multiples of the strides, from dy
// column (v + left - s*dw) / sw. For one tap those columns are a piece of one dy
// row, so one (masked) load and one lane permute put every dy value under the dx lane
// it feeds, and a masked FMA adds it only there: no inserted zero is read or
// multiplied, no phase plane is stored and merged. Columns whose lanes do not
// overlap share one permute and one FMA, with a weight vector that holds each
// lane's own w[r, s] (stride 2, 3 columns: 2 FMAs per row tap, not 3).
//
// Why: the channel-vector route spends most of small planes' time transposing 16
// planes in and out of pixel vectors, and the phase-split form (tried: stride
// phases of dx, then a merge of the phase planes) spent 43-46% of its time in the
// merge. Here dx is written once, row by row, straight from registers.
//
// Register tile: one channel and one chunk (vector) of a row at a time; the group
// permute indices and masks stay in registers over the whole chunk column and the
// weight vectors sit in an L1 array. Three row loops: the general one takes each dx
// row's list of row taps (a load and a permute per row tap; consecutive rows are
// independent FMA chains that the core overlaps); the paired-row loop (stride 2,
// three kernel rows: MobileNet's and most networks' strided depthwise layers) loads
// and permutes each dy row once for the three dx rows it feeds, carrying the row
// that two dy rows share in a register; the triple-row loop does the same at stride
// 1, carrying two rows. Measured on MobileNet's 3x3 stride-2 layers (batch 8, one
// thread), time against the channel-vector kernels: general loop 0.83-0.87 (14x14)
// and 0.75 (28x28), paired rows 0.40 and 0.42.

namespace direct_plane_expand_detail {

// Masked stores are slow here (a 14x14 plane's 14 masked row stores took as long as
// its 126 FMAs), so a row takes a plain store wherever that is safe: a full chunk,
// or, when a row is one chunk, any row whose vector ends inside the plane: its extra
// lanes land on the next rows, which the row loops (rows in increasing order) write
// afterwards. Also where dx leaves the cache (112x112 rows at batch 8, two threads)
// masked stores with every lane on made this route 1.16x the channel-vector route's
// time, plain ones 0.93x.
template <class VT>
inline void put(typename VT::T* o, typename VT::V v, typename VT::M sm, bool plain) {
  if (plain) VT::store(o, v);
  else VT::store(o, v, sm);
}

// A row of zeros, at least a vector long, that the dots read in place of x rows
// outside the plane.
template <typename T>
alignas(64) constexpr T kZeroRow[64 / sizeof(T) * 2] = {};

// The dy-row step of the carried-row loops, as a type (a template constant inside a lambda).
template <int S>
struct RowStep {
  static constexpr int value = S;
};

// The last row whose vector may be stored whole (see put), or -1.
inline int64_t last_plain_row(int64_t chunks, int64_t m, int64_t out_row, int L) {
  return chunks == 1 && m * out_row >= L ? (m * out_row - L) / out_row : -1;
}

// Chunk k's G column groups, held in registers over its rows: dy(d, g) is group g's
// vector from the dy row at d (its dy values under the lanes that take them).
template <class VT, int G>
struct ChunkGroups {
  typename VT::I idx[G];
  typename VT::M lm[G], om[G];
  int64_t j0[G];
  typename VT::M lanes;  // the chunk's lanes inside the row
  bool full;             // every lane
  ChunkGroups(const DirectPlaneExpandArgs<typename VT::T>& a, int64_t k) {
    const int64_t g0 = a.group_begin[k];
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      idx[g] = VT::index(a.col_idx + (g0 + g) * VT::L);
      lm[g] = VT::bits(a.col_load[g0 + g]);
      om[g] = VT::bits(a.col_out[g0 + g]);
      j0[g] = a.col_dy[g0 + g];
    }
    lanes = VT::bits(a.store[k]);
    full = a.store[k] == (1u << VT::L) - 1u;
  }
  typename VT::V dy(const typename VT::T* d, int g) const { return VT::permute(idx[g], VT::load(d + j0[g], lm[g])); }
  // The same for rows, d at element e of a dy plane of `size` elements. A plain load wherever it
  // stays inside the plane, so its lanes outside lm[g] are not zero; the FMAs'
  // masks (om) drop them. Why: on this Zen 5 a masked load that misses L1 costs more
  // (mobilenet.dw3 fwd 0.985 -> 0.83 ms, dw7 0.195 -> 0.169, 1 thread). Not in the
  // dots: there it was slower (dw5 bwd_weight 0.40 -> 0.46 ms, dw6s2 0.203 -> 0.221).
  typename VT::V dy_in(const typename VT::T* d, int64_t e, int64_t size, int g) const {
    const int64_t p = e + j0[g];
    return VT::permute(idx[g], p >= 0 && p + VT::L <= size ? VT::load(d + j0[g]) : VT::load(d + j0[g], lm[g]));
  }
};

template <class VT, int G>
inline void chunk_rows(const DirectPlaneExpandArgs<typename VT::T>& a, int64_t k) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  const int64_t g0 = a.group_begin[k];
  const ChunkGroups<VT, G> cg(a, k);
  const M sm = cg.lanes;
  const bool full = cg.full;
  // Locals, not a's fields: the stores below may alias anything (intrinsics), so
  // fields read through `a` would be reloaded after every store.
  const int64_t m = a.m, out_row = a.out_row, wrows = a.wrows, wcols = a.wcols;
  const int64_t plain_rows = full ? m - 1 : last_plain_row(a.chunks, m, out_row, L);
  const int64_t* const row_begin = a.row_begin;
  const int64_t* const row_dy = a.row_dy;
  const int64_t* const row_w = a.row_w;
  const int64_t* const member_begin = a.member_begin + g0;
  const int64_t* const member_s = a.member_s;
  const unsigned* const member_lanes = a.member_lanes;
  V wv[kExpandMaxRows * G];
  for (int64_t c = 0; c < a.channels; ++c) {
    const T* D = a.dy + c * a.dy_c;
    const T* Wc = a.w + c * a.w_c;
    // Per-lane weights of this channel: wv[r*G + g] lane l = w[r, s(g, l)].
    for (int64_t r = 0; r < wrows; ++r)
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        V v = VT::zero();
        for (int64_t u = member_begin[g]; u < member_begin[g + 1]; ++u)
          v = VT::blend(VT::bits(member_lanes[u]), v, VT::set1(Wc[r * wcols + member_s[u]]));
        wv[r * G + g] = v;
      }
    T* o = a.out + c * a.out_c + k * L;
    // Every row's sum starts from the bias (forward) or 0.
    const V bv = a.bias ? VT::set1(a.bias[c * a.bias_c]) : VT::zero();
    if (a.triple_rows || a.pair_rows) {
      // Three kernel rows, no row dilation: dy row i feeds dx rows h = step*i - top
      // + r (r = 0, 1, 2), so each dy row is loaded and permuted once for the three
      // rows and the rows that the next dy rows also feed are carried in registers
      // (still the gather form: every term is a real tap). Stride 1 (triple rows)
      // carries two rows, stride 2 (paired rows) one: its row h + 1 is fed by this
      // dy row alone. The step is a template constant, so each loop is straight code.
      const auto carried_rows = [&](auto step_tag) {
        constexpr int step = decltype(step_tag)::value;
        const int64_t top = a.top, P = a.dy_rows, dy_row = a.dy_row;
        for (int64_t z = 0; z < -top && z < m; ++z) put<VT>(o + z * out_row, bv, sm, z <= plain_rows);  // above dy's reach
        V c0 = bv, c1 = bv;  // rows h and h + 1 so far
        int64_t h = -top;
        for (int64_t i = 0; i < P; ++i, h += step) {
          const T* d = D + i * dy_row;
          V pg[G];
#pragma GCC unroll 4
          for (int g = 0; g < G; ++g) pg[g] = cg.dy_in(d, i * dy_row, P * dy_row, g);
          V a0 = c0, a1 = c1, a2 = bv;
#pragma GCC unroll 4
          for (int g = 0; g < G; ++g) {
            a0 = VT::fma(pg[g], wv[g], a0, cg.om[g]);
            a1 = VT::fma(pg[g], wv[G + g], a1, cg.om[g]);
            a2 = VT::fma(pg[g], wv[2 * G + g], a2, cg.om[g]);
          }
          if (h >= 0 && h < m) put<VT>(o + h * out_row, a0, sm, h <= plain_rows);
          if constexpr (step == 2) {
            if (h + 1 >= 0 && h + 1 < m) put<VT>(o + (h + 1) * out_row, a1, sm, h + 1 <= plain_rows);
            c0 = a2;  // c1 stays bv
          } else {
            c0 = a1, c1 = a2;
          }
        }
        if (h >= 0 && h < m) put<VT>(o + h * out_row, c0, sm, h <= plain_rows);
        if (h + 1 >= 0 && h + 1 < m) put<VT>(o + (h + 1) * out_row, c1, sm, h + 1 <= plain_rows);
        for (int64_t z = h + 2 < 0 ? 0 : h + 2; z < m; ++z)  // rows below the last dy row's reach
          put<VT>(o + z * out_row, bv, sm, z <= plain_rows);
      };
      if (a.pair_rows) carried_rows(RowStep<2>{});
      else carried_rows(RowStep<1>{});
      continue;
    }
    const int64_t dy_size = a.dy_rows * a.dy_row;
    int64_t e = row_begin[0];
    for (int64_t h = 0; h < m; ++h, o += out_row) {
      V acc = bv;
      for (const int64_t e1 = row_begin[h + 1]; e < e1; ++e) {
        const T* d = D + row_dy[e];
        const V* wr = wv + row_w[e] * G;
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g) acc = VT::fma(cg.dy_in(d, row_dy[e], dy_size, g), wr[g], acc, cg.om[g]);
      }
      put<VT>(o, acc, sm, h <= plain_rows);
    }
  }
}

// Backward-weight over chunk k of every x row: the same dy vectors as chunk_rows
// (the lanes of group g hold the dy values that meet x's lanes), multiplied by the x
// row instead of a weight and summed per (kernel row, group) over the image.
// CH channels (c, c + 1, ...) at once: in the carried-row loops they share the row
// arithmetic and give the core twice the independent FMA chains (mobilenet.dw12s2:
// 7 dy rows of 3 FMA pairs a plane, one channel at a time, was bound by the loop's
// own instructions). An x row outside the plane is read from kZeroRow (its FMAs add
// zeros), so the loop has no row test and no out-of-line masked load.
template <class VT, int G, int CH>
inline void chunk_dots(const DirectPlaneExpandArgs<typename VT::T>& a, int64_t k, int64_t c) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  const int64_t g0 = a.group_begin[k];
  const ChunkGroups<VT, G> cg(a, k);
  const M xm = cg.lanes;
  const bool full = cg.full;
  const int64_t m = a.m, x_row = a.x_row, wrows = a.wrows, wcols = a.wcols, RG = a.wrows * G;
  const int64_t top = a.top, P = a.dy_rows, dy_row = a.dy_row;
  const int64_t* const row_begin = a.row_begin;
  const int64_t* const row_dy = a.row_dy;
  const int64_t* const row_w = a.row_w;
  // float partial sums over at most kDotFlush terms per lane (images of P dy rows)
  // before they are added, lane by lane, into double.
  const int64_t flush = P > 0 && kDotFlush / P > 0 ? kDotFlush / P : 1;
  double dacc[CH][kExpandMaxRows * G * L];
  V acc[CH][kExpandMaxRows * G];
  for (int u = 0; u < CH; ++u)
    for (int64_t t = 0; t < RG; ++t) acc[u][t] = VT::zero();
  bool flushed = false;
  for (int64_t n = 0; n < a.images; ++n) {
    const T* X[CH];
    const T* D[CH];
    for (int u = 0; u < CH; ++u) {
      X[u] = a.x + n * a.x_n + (c + u) * a.x_c + k * L;
      D[u] = a.dy + n * a.dy_n + (c + u) * a.dy_c;
    }
    if (n > 0 && n % flush == 0) {
      for (int u = 0; u < CH; ++u) {
        if (!flushed)
          for (int64_t t = 0; t < RG * L; ++t) dacc[u][t] = 0.0;
        for (int64_t t = 0; t < RG; ++t) VT::add_to(dacc[u] + t * L, acc[u][t]), acc[u][t] = VT::zero();
      }
      flushed = true;
    }
    if (a.pair_rows || a.triple_rows) {  // as in chunk_rows: dy row i meets x rows step*i - top + r, r < 3
      const int64_t step = a.pair_rows ? 2 : 1;
      V ac[CH][3 * G];
#pragma GCC unroll 2
      for (int u = 0; u < CH; ++u)
#pragma GCC unroll 12
        for (int t = 0; t < 3 * G; ++t) ac[u][t] = acc[u][t];
      const T* xb[CH];
      for (int u = 0; u < CH; ++u) xb[u] = X[u] - top * x_row;
      int64_t h = -top;
      for (int64_t i = 0; i < P; ++i, h += step) {
        V pg[CH][G];
#pragma GCC unroll 2
        for (int u = 0; u < CH; ++u)
#pragma GCC unroll 4
          for (int g = 0; g < G; ++g) pg[u][g] = cg.dy(D[u] + i * dy_row, g);
#pragma GCC unroll 3
        for (int r = 0; r < 3; ++r) {
          const bool inside = static_cast<uint64_t>(h + r) < static_cast<uint64_t>(m);
#pragma GCC unroll 2
          for (int u = 0; u < CH; ++u) {
            const T* xr = inside ? xb[u] + r * x_row : kZeroRow<T>;
            const V xv = full ? VT::load(xr) : VT::load(xr, xm);
#pragma GCC unroll 4
            for (int g = 0; g < G; ++g) ac[u][r * G + g] = VT::fma(xv, pg[u][g], ac[u][r * G + g], cg.om[g]);
          }
        }
#pragma GCC unroll 2
        for (int u = 0; u < CH; ++u) xb[u] += step * x_row;
      }
#pragma GCC unroll 2
      for (int u = 0; u < CH; ++u)
#pragma GCC unroll 12
        for (int t = 0; t < 3 * G; ++t) acc[u][t] = ac[u][t];
      continue;
    }
    for (int u = 0; u < CH; ++u) {
      int64_t e = row_begin[0];
      for (int64_t h = 0; h < m; ++h) {
        const int64_t e1 = row_begin[h + 1];
        if (e == e1) continue;
        const T* xr = X[u] + h * x_row;
        const V xv = full ? VT::load(xr) : VT::load(xr, xm);
        for (; e < e1; ++e) {
          const T* d = D[u] + row_dy[e];
          V* ar = acc[u] + row_w[e] * G;
#pragma GCC unroll 4
          for (int g = 0; g < G; ++g) ar[g] = VT::fma(xv, cg.dy(d, g), ar[g], cg.om[g]);
        }
      }
    }
  }
  // Each (r, s): the sum of its member lanes of its group's accumulator, in a fixed
  // order (VT::sum's halves; lane order once flushed to double).
  for (int u = 0; u < CH; ++u) {
    double* dw = a.dw + (c + u) * wrows * wcols;
    if (flushed)
      for (int64_t t = 0; t < RG; ++t) VT::add_to(dacc[u] + t * L, acc[u][t]);
    for (int64_t r = 0; r < wrows; ++r)
      for (int g = 0; g < G; ++g)
        for (int64_t e = a.member_begin[g0 + g]; e < a.member_begin[g0 + g + 1]; ++e) {
          double sum = 0.0;
          if (!flushed) {
            sum = double(VT::sum(VT::blend(VT::bits(a.member_lanes[e]), VT::zero(), acc[u][r * G + g])));
          } else {
            const double* lanes = dacc[u] + (r * G + g) * L;
            for (unsigned b = a.member_lanes[e]; b; b &= b - 1) sum += lanes[__builtin_ctz(b)];
          }
          dw[r * wcols + a.member_s[e]] += sum;
        }
  }
}

}  // namespace direct_plane_expand_detail

template <class VT>
void direct_plane_expand(const DirectPlaneExpandArgs<typename VT::T>& a) {
  using namespace direct_plane_expand_detail;
  for (int64_t k = 0; k < a.chunks; ++k) {
    switch (a.group_begin[k + 1] - a.group_begin[k]) {
      case 1: chunk_rows<VT, 1>(a, k); break;
      case 2: chunk_rows<VT, 2>(a, k); break;
      case 3: chunk_rows<VT, 3>(a, k); break;
      case 4: chunk_rows<VT, 4>(a, k); break;
      default: {  // no group: no lane of this chunk is reached
        const typename VT::M sm = VT::bits(a.store[k]);
        for (int64_t c = 0; c < a.channels; ++c)
          for (int64_t h = 0; h < a.m; ++h)
            VT::store(a.out + c * a.out_c + h * a.out_row + k * VT::L, VT::zero(), sm);
      }
    }
  }
}

template <class VT>
void direct_plane_expand_dots(const DirectPlaneExpandArgs<typename VT::T>& a) {
  using namespace direct_plane_expand_detail;
  // Channel by channel, every chunk of it, so a channel's x planes stay in L1
  // across its chunks (chunks outside the channel loop: 56x56 at batch 8 1.15x
  // slower); in pairs where the rows carry and the planes are small. Pairs, time
  // against single channels (1 / 2 threads, batch 8, Zen 5, alternating processes):
  // mobilenet.dw12s2 (14x14) 0.91 / 0.91, dw6s2 (28x28) 1.00 / 0.99; on 56x56 and
  // 112x112 planes 1.00-1.04, so those stay single.
  constexpr int64_t kPairMaxPlane = 1024;
  const bool pairs = (a.pair_rows || a.triple_rows) && a.x_c <= kPairMaxPlane;
  for (int64_t c = 0; c < a.channels;) {
    const int64_t ch = pairs && c + 1 < a.channels ? 2 : 1;
    for (int64_t k = 0; k < a.chunks; ++k) {
      switch (a.group_begin[k + 1] - a.group_begin[k]) {
        case 1: ch == 2 ? chunk_dots<VT, 1, 2>(a, k, c) : chunk_dots<VT, 1, 1>(a, k, c); break;
        case 2: ch == 2 ? chunk_dots<VT, 2, 2>(a, k, c) : chunk_dots<VT, 2, 1>(a, k, c); break;
        case 3:
        case 4:
          for (int64_t u = c; u < c + ch; ++u) {
            if (a.group_begin[k + 1] - a.group_begin[k] == 3) chunk_dots<VT, 3, 1>(a, k, u);
            else chunk_dots<VT, 4, 1>(a, k, u);
          }
          break;
        default: break;  // no group: no lane of this chunk meets dy
      }
    }
    c += ch;
  }
}
