// The broadcast micro-kernels of the direct route (grouped convolutions with many
// channels per group, all three passes), written once over a vector-traits class
// VT (vec-<isa>.hpp) and instantiated by each ISA's f32/f64-direct-bcast-<isa>.cpp.
// Contract: direct-args.hpp ("broadcast rows and dots"). Included *inside* an ISA
// namespace (see direct-rows.inl for why): no #include, no std:: calls.
//
// Why: a ResNeXt group (16 channels in, 16 out, 14x14) is a GEMM of 16 x 144 x 196
// per image: im2col spends as long copying each input 9 times as the FMAs take,
// and the rows kernel's vectors run along 14-wide rows (masks, 2 of 16 lanes
// idle). With the group's output channels in the lanes every FMA is a full
// vector, and the input is read in place as broadcast scalars (an FMA's memory
// operand on AVX-512), so nothing is copied but the zero padding (Zhang,
// Franchetti, Low, ICML 2018: output channels in the vector, pixels in registers).
//
// rows: kJB pixels accumulate at once, each weight vector feeding kJB independent
// FMA chains (enough to cover the FMA latency on every ISA here).
// dots: one accumulator per tap of a chunk of kUB; each dy pixel vector is loaded
// once and multiplied into every tap's accumulator (Diba eq. 15).

namespace direct_bcast_detail {

constexpr int kJB = 8;  // pixels per rows block
constexpr int kUB = 8;  // taps per dots chunk

// One block of kJB pixels from q0. Past the last pixel the block repeats it: the
// duplicates compute the same value into the same slot, in order (no tail code).
template <class VT>
inline void rows_block(const DirectBcastArgs<typename VT::T>& a, int64_t q0) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  V acc[kJB];
  const T* s[kJB];
  int64_t o[kJB];
#pragma GCC unroll 8
  for (int b = 0; b < kJB; ++b) {
    const int64_t q = q0 + b < a.npix ? q0 + b : a.npix - 1;
    s[b] = a.src + a.poff[q];
    o[b] = a.ooff[q];
    acc[b] = a.bias ? VT::load(a.bias) : VT::zero();
  }
  const T* wp = a.w;
  for (int64_t u = 0; u < a.ntaps; ++u, wp += L) {
    const V wv = VT::load(wp);
    const int64_t t = a.toff[u];
#pragma GCC unroll 8
    for (int b = 0; b < kJB; ++b) acc[b] = VT::fma(VT::set1(s[b][t]), wv, acc[b]);
  }
#pragma GCC unroll 8
  for (int b = 0; b < kJB; ++b) VT::store(a.out + o[b] * L, acc[b]);
}

template <class VT, int UB>
void dots_chunk(const DirectBcastArgs<typename VT::T>& a, int64_t u0) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  V acc[UB];
  int64_t t[UB];
#pragma GCC unroll 8
  for (int k = 0; k < UB; ++k) {
    acc[k] = VT::zero();
    t[k] = a.toff[u0 + k];
  }
  for (int64_t q = 0; q < a.npix; ++q) {
    const V dv = VT::load(a.dy + q * L);
    const T* s = a.src + a.poff[q];
#pragma GCC unroll 8
    for (int k = 0; k < UB; ++k) acc[k] = VT::fma(VT::set1(s[t[k]]), dv, acc[k]);
  }
#pragma GCC unroll 8
  for (int k = 0; k < UB; ++k) VT::store(a.dw + (u0 + k) * L, acc[k]);
}

}  // namespace direct_bcast_detail

template <class VT>
void direct_bcast_rows(const DirectBcastArgs<typename VT::T>& a) {
  for (int64_t q0 = 0; q0 < a.npix; q0 += direct_bcast_detail::kJB) direct_bcast_detail::rows_block<VT>(a, q0);
}

template <class VT>
void direct_bcast_dots(const DirectBcastArgs<typename VT::T>& a) {
  using namespace direct_bcast_detail;
  int64_t u0 = 0;
  for (; u0 + kUB <= a.ntaps; u0 += kUB) dots_chunk<VT, kUB>(a, u0);
  switch (a.ntaps - u0) {  // the last chunk, of 0..kUB-1 taps
    case 1: dots_chunk<VT, 1>(a, u0); break;
    case 2: dots_chunk<VT, 2>(a, u0); break;
    case 3: dots_chunk<VT, 3>(a, u0); break;
    case 4: dots_chunk<VT, 4>(a, u0); break;
    case 5: dots_chunk<VT, 5>(a, u0); break;
    case 6: dots_chunk<VT, 6>(a, u0); break;
    case 7: dots_chunk<VT, 7>(a, u0); break;
    default: break;
  }
}
