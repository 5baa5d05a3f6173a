// The channel-vector micro-kernels of the direct route (depthwise forward,
// backward-input and backward-weight on small planes), written once over a
// vector-traits class VT (vec-<isa>.hpp) and instantiated by each ISA's
// f32/f64-direct-cvec-<isa>.cpp. Contract: direct-args.hpp ("channel-vector").
// Included *inside* an ISA namespace (see direct-rows.inl for why): no #include,
// no std:: calls.
//
// Why: on a 7x7 or 14x14 plane a row of outputs fills at most one vector, so the
// plane-rows kernel spends its time on masks and row bookkeeping (measured 5-14
// GFLOP/s per core on MobileNet's 14x14 and 7x7 depthwise layers, against ~230
// peak). With L channels in the lanes, every load is a whole, unmasked pixel
// vector and stride 2 costs nothing extra (the vectors are pixels, not columns).
//
// rows: the taps' weights sit in TC registers (taps in chunks of up to 12: the
// first chunk starts from the bias, later ones add to what it wrote), and JB
// consecutive output pixels accumulate at once, so each weight register feeds JB
// independent FMA chains (Zhang, Franchetti, Low, ICML 2018: outputs in registers
// while the taps stream through).
// dots: one accumulator per tap of a chunk; each dy pixel is loaded once and
// multiplied into every tap's accumulator (Diba eq. 15, x correlated with dy).

namespace direct_cvec_detail {

template <class VT, int TC, int JB>
inline void rows_pixels(const DirectCvecArgs<typename VT::T>& a, const int64_t* off, const typename VT::V* wv,
                        bool init, int64_t i, int64_t j) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  V acc[JB];
  T* o = a.out + (i * a.out_row + j * a.out_col) * L;
  const T* s = a.src + (i * a.src_row + j * a.src_col) * L;
  const int64_t oc = a.out_col * L, sc = a.src_col * L;
#pragma GCC unroll 8
  for (int b = 0; b < JB; ++b) acc[b] = init ? (a.bias ? VT::load(a.bias) : VT::zero()) : VT::load(o + b * oc);
#pragma GCC unroll 12
  for (int t = 0; t < TC; ++t) {
    const T* st = s + off[t] * L;
#pragma GCC unroll 8
    for (int b = 0; b < JB; ++b) acc[b] = VT::fma(wv[t], VT::load(st + b * sc), acc[b]);
  }
#pragma GCC unroll 8
  for (int b = 0; b < JB; ++b) VT::store(o + b * oc, acc[b]);
}

template <class VT, int TC>
void rows_chunk(const DirectCvecArgs<typename VT::T>& a, int64_t t0, bool init) {
  using V = typename VT::V;
  constexpr int L = VT::L;
  constexpr int JB = VT::kAcc >= 24 ? 8 : 4;
  V wv[TC];
  int64_t off[TC];
#pragma GCC unroll 12
  for (int t = 0; t < TC; ++t) {
    wv[t] = VT::load(a.w + a.widx[t0 + t] * L);
    off[t] = a.off[t0 + t];
  }
  for (int64_t i = 0; i < a.m; ++i) {
    int64_t j = 0;
    for (; j + JB <= a.n; j += JB) rows_pixels<VT, TC, JB>(a, off, wv, init, i, j);
    for (; j < a.n; ++j) rows_pixels<VT, TC, 1>(a, off, wv, init, i, j);
  }
}

template <class VT, int TC>
void dots_chunk(const DirectCvecArgs<typename VT::T>& a, int64_t t0) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  V acc[TC];
  int64_t off[TC];
#pragma GCC unroll 12
  for (int t = 0; t < TC; ++t) {
    acc[t] = VT::zero();
    off[t] = a.off[t0 + t] * L;
  }
  for (int64_t i = 0; i < a.m; ++i) {
    const T* s = a.src + i * a.src_row * L;
    const T* d = a.dy + i * a.dy_row * L;
    for (int64_t j = 0; j < a.n; ++j) {
      const V dv = VT::load(d + j * L);
      const T* sj = s + j * a.src_col * L;
#pragma GCC unroll 12
      for (int t = 0; t < TC; ++t) acc[t] = VT::fma(VT::load(sj + off[t]), dv, acc[t]);
    }
  }
#pragma GCC unroll 12
  for (int t = 0; t < TC; ++t) VT::store(a.dw + a.widx[t0 + t] * L, acc[t]);
}

// Splits the taps into equal chunks of at most 12 and calls f.template
// run<TC>(t0, first) for each (TC, the chunk's size, a compile-time constant).
template <class F>
void for_each_chunk(int64_t ntaps, F&& f) {
  const int64_t chunks = (ntaps + 11) / 12;
  int64_t t0 = 0;
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t tc = (ntaps - t0 + (chunks - k) - 1) / (chunks - k);
    switch (tc) {
      case 1: f.template run<1>(t0, k == 0); break;
      case 2: f.template run<2>(t0, k == 0); break;
      case 3: f.template run<3>(t0, k == 0); break;
      case 4: f.template run<4>(t0, k == 0); break;
      case 5: f.template run<5>(t0, k == 0); break;
      case 6: f.template run<6>(t0, k == 0); break;
      case 7: f.template run<7>(t0, k == 0); break;
      case 8: f.template run<8>(t0, k == 0); break;
      case 9: f.template run<9>(t0, k == 0); break;
      case 10: f.template run<10>(t0, k == 0); break;
      case 11: f.template run<11>(t0, k == 0); break;
      default: f.template run<12>(t0, k == 0); break;
    }
    t0 += tc;
  }
}

template <class VT>
struct RowsChunks {
  const DirectCvecArgs<typename VT::T>& a;
  template <int TC>
  void run(int64_t t0, bool first) const { rows_chunk<VT, TC>(a, t0, first); }
};

template <class VT>
struct DotsChunks {
  const DirectCvecArgs<typename VT::T>& a;
  template <int TC>
  void run(int64_t t0, bool) const { dots_chunk<VT, TC>(a, t0); }
};

}  // namespace direct_cvec_detail

template <class VT>
void direct_cvec_rows(const DirectCvecArgs<typename VT::T>& a) {
  constexpr int L = VT::L;
  if (a.m <= 0 || a.n <= 0) return;
  if (a.ntaps <= 0) {  // no tap reaches these outputs: each is the bias
    for (int64_t i = 0; i < a.m; ++i)
      for (int64_t j = 0; j < a.n; ++j)
        VT::store(a.out + (i * a.out_row + j * a.out_col) * L, a.bias ? VT::load(a.bias) : VT::zero());
    return;
  }
  direct_cvec_detail::for_each_chunk(a.ntaps, direct_cvec_detail::RowsChunks<VT>{a});
}

template <class VT>
void direct_cvec_dots(const DirectCvecArgs<typename VT::T>& a) {
  if (a.ntaps <= 0) return;
  direct_cvec_detail::for_each_chunk(a.ntaps, direct_cvec_detail::DotsChunks<VT>{a});
}
