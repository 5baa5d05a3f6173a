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
// rows: a block of pixels accumulates at once, each weight vector feeding one
// FMA chain a pixel. Where the driver says the pixels come in runs (an output
// row: consecutive inputs) and the taps too (a kernel row), a block is up to 16
// pixels of a run addressed from one pointer, 3 taps a step (run_block);
// otherwise kJB pixels through kJB pointers, a tap a step (rows_block).
// dots: one accumulator per tap of a chunk; each dy pixel vector is loaded once
// and multiplied into every tap's accumulator (Diba eq. 15): 6 kernel rows of 3
// taps (dots_runs3) where taps come in runs of 3, else kUB taps (dots_chunk).
// The runs took resnext50.l3.g32 (Zen 5, 1 thread, old / new .so in alternating
// processes, with the driver's changes that came with them) from 1.50 / 1.49 /
// 1.55 ms with the kJB / kUB kernels alone to 1.12 / 1.14 / 1.13 (fwd / bwd_data /
// bwd_weight; bwd_weight 1.32 before dots_runs3 took pixels in pairs).

#include "kernels/equal-chunks.inl"

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

// KT taps of a tap run (consecutive inputs) into JB pixels of a pixel run.
template <class VT, int JB, int STEP, int KT>
inline void run_taps(typename VT::V (&acc)[JB], const typename VT::T* su, const typename VT::T* wp) {
#pragma GCC unroll 3
  for (int k = 0; k < KT; ++k) {
    const typename VT::V wv = VT::load(wp + k * VT::L);
#pragma GCC unroll 16
    for (int b = 0; b < JB; ++b) acc[b] = VT::fma(VT::set1(su[b * STEP + k]), wv, acc[b]);
  }
}

// One block of JB pixels of a pixel run (DirectBcastArgs::run): their inputs lie
// STEP elements apart, so one base pointer and constant displacements address
// every broadcast, and JB is not bounded by the general-purpose registers as
// kJB is by its JB pointers. The taps go a tap run at a time (3 taps of a
// kernel row per load of toff), so the loop's own work is spread over 3 JB FMAs.
// A 14 x 144 block in isolation (Zen 5): a 14-pixel run, one tap a step, 82% of
// the FMA peak; three taps a step 100%.
template <class VT, int JB, int STEP>
inline void run_block(const DirectBcastArgs<typename VT::T>& a, int64_t q0) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  V acc[JB];
#pragma GCC unroll 16
  for (int b = 0; b < JB; ++b) acc[b] = a.bias ? VT::load(a.bias) : VT::zero();
  const T* s = a.src + a.poff[q0];
  const T* wp = a.w;
  const int64_t tr = a.tap_run > 0 ? a.tap_run : 1;
  for (int64_t u = 0; u < a.ntaps; u += tr) {
    const T* su = s + a.toff[u];
    int64_t k = 0;
    for (; k + 3 <= tr; k += 3, wp += 3 * L) run_taps<VT, JB, STEP, 3>(acc, su + k, wp);
    if (tr - k == 2) {
      run_taps<VT, JB, STEP, 2>(acc, su + k, wp);
      wp += 2 * L;
    } else if (tr - k == 1) {
      run_taps<VT, JB, STEP, 1>(acc, su + k, wp);
      wp += L;
    }
  }
#pragma GCC unroll 16
  for (int b = 0; b < JB; ++b) VT::store(a.out + a.ooff[q0 + b] * L, acc[b]);
}

// The blocks of the pixel run from r0, for equal_chunks.
template <class VT, int STEP>
struct RunBlocks {
  const DirectBcastArgs<typename VT::T>& a;
  int64_t r0;
  template <int JB>
  void operator()(int64_t first, int64_t) const {
    run_block<VT, JB, STEP>(a, r0 + first);
  }
};

// Each run cut into the fewest blocks of at most JB pixels, of sizes that differ
// by at most one (a 14-pixel row is one block, not 8 + 6).
template <class VT, int JB, int STEP>
void rows_runs(const DirectBcastArgs<typename VT::T>& a) {
  for (int64_t r0 = 0; r0 < a.npix; r0 += a.run) equal_chunks<JB>(a.run, RunBlocks<VT, STEP>{a, r0});
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
    acc[k] = a.accumulate ? VT::load(a.dw + (u0 + k) * L) : VT::zero();
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

// The FMAs of NP pixels, STEP elements apart from s (NP = 1: any pixel), into
// NR tap runs of 3.
template <class VT, int NR, int NP, int STEP>
inline void dots_pixels(typename VT::V (&acc)[3 * NR], const int64_t (&t)[NR], const typename VT::T* s,
                        const typename VT::T* d) {
#pragma GCC unroll 2
  for (int j = 0; j < NP; ++j) {
    const typename VT::V dv = VT::load(d + j * VT::L);
#pragma GCC unroll 8
    for (int i = 0; i < NR; ++i) {
      const typename VT::T* si = s + t[i] + j * STEP;  // a pointer a run, the taps its displacements
      acc[3 * i] = VT::fma(VT::set1(si[0]), dv, acc[3 * i]);
      acc[3 * i + 1] = VT::fma(VT::set1(si[1]), dv, acc[3 * i + 1]);
      acc[3 * i + 2] = VT::fma(VT::set1(si[2]), dv, acc[3 * i + 2]);
    }
  }
}

// NR tap runs of 3 (a 3-wide kernel row each: DirectBcastArgs::tap_run) from
// tap u0: 3 NR accumulators, each run's broadcasts addressed from one offset.
// As in run_block, more chains and less loop work per FMA than dots_chunk's 8.
// Where pixels come in runs (STEP > 0: DirectBcastArgs::run) they go two a step
// from one pointer, which halves the address work per FMA: a 6 x 3 tap chunk
// over 14-pixel rows in isolation (Zen 5) ran at 88% of the FMA peak a pixel a
// step and 100% two a step.
template <class VT, int NR, int STEP>
void dots_runs3(const DirectBcastArgs<typename VT::T>& a, int64_t u0) {
  using T = typename VT::T;
  using V = typename VT::V;
  constexpr int L = VT::L;
  V acc[3 * NR];
  int64_t t[NR];
#pragma GCC unroll 24
  for (int k = 0; k < 3 * NR; ++k) acc[k] = a.accumulate ? VT::load(a.dw + (u0 + k) * L) : VT::zero();
#pragma GCC unroll 8
  for (int i = 0; i < NR; ++i) t[i] = a.toff[u0 + 3 * i];
  if constexpr (STEP > 0) {
    for (int64_t r0 = 0; r0 < a.npix; r0 += a.run) {
      const T* s = a.src + a.poff[r0];
      const T* d = a.dy + r0 * L;
      int64_t j = 0;
      for (; j + 2 <= a.run; j += 2, s += 2 * STEP, d += 2 * L) dots_pixels<VT, NR, 2, STEP>(acc, t, s, d);
      if (j < a.run) dots_pixels<VT, NR, 1, STEP>(acc, t, s, d);
    }
  } else {
    for (int64_t q = 0; q < a.npix; ++q) dots_pixels<VT, NR, 1, 0>(acc, t, a.src + a.poff[q], a.dy + q * L);
  }
#pragma GCC unroll 24
  for (int k = 0; k < 3 * NR; ++k) VT::store(a.dw + (u0 + k) * L, acc[k]);
}

// dots_runs3 over a chunk of tap runs, for equal_chunks.
template <class VT, int STEP>
struct TapRunChunks {
  const DirectBcastArgs<typename VT::T>& a;
  template <int NR>
  void operator()(int64_t first, int64_t) const {
    dots_runs3<VT, NR, STEP>(a, 3 * first);
  }
};

// Every tap run in equal chunks of at most NR runs.
template <class VT, int NR, int STEP>
void dots_runs3_all(const DirectBcastArgs<typename VT::T>& a) {
  equal_chunks<NR>(a.ntaps / 3, TapRunChunks<VT, STEP>{a});
}

}  // namespace direct_bcast_detail

template <class VT>
void direct_bcast_rows(const DirectBcastArgs<typename VT::T>& a) {
  using namespace direct_bcast_detail;
  // Blocks of runs where the driver gives runs and a step compiled here; 16
  // accumulators where 32 registers hold them, 12 where 16 do (one more for the
  // weights, one or two for a broadcast).
  constexpr int JB = VT::kAcc >= 24 ? 16 : 12;
  if (a.run >= kJB && a.run_step == 1) return rows_runs<VT, JB, 1>(a);
  if (a.run >= kJB && a.run_step == 2) return rows_runs<VT, JB, 2>(a);
  for (int64_t q0 = 0; q0 < a.npix; q0 += kJB) rows_block<VT>(a, q0);
}

template <class VT>
void direct_bcast_dots(const DirectBcastArgs<typename VT::T>& a) {
  using namespace direct_bcast_detail;
  if (a.tap_run == 3) {  // 3-wide kernels, undilated along the row: 18 (or 9) accumulators a chunk
    constexpr int NR = VT::kAcc >= 24 ? 6 : 3;
    if (a.run >= 2 && a.run_step == 1) return dots_runs3_all<VT, NR, 1>(a);
    if (a.run >= 2 && a.run_step == 2) return dots_runs3_all<VT, NR, 2>(a);
    return dots_runs3_all<VT, NR, 0>(a);
  }
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
