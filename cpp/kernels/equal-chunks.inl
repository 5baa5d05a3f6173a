// Equal chunks: n items cut into the fewest chunks of at most Max, whose sizes
// differ by at most one (the larger first); f.template operator()<size>(first, k)
// runs chunk k, its size a compile-time constant. For the kernels that keep a
// chunk's accumulators in registers (plane taps, broadcast pixels and tap runs).
// Included *inside* an ISA namespace (see direct-rows.inl for why): no #include,
// no std:: calls.
#pragma once

namespace equal_chunks_detail {

// f.template operator()<size>(first, k) for 1 <= size <= N (N counts down to size).
template <int N, class F>
inline void call_sized(int64_t size, int64_t first, int64_t k, const F& f) {
  if constexpr (N > 1) {
    if (size < N) {
      call_sized<N - 1>(size, first, k, f);
      return;
    }
  }
  f.template operator()<N>(first, k);
}

}  // namespace equal_chunks_detail

template <int Max, class F>
void equal_chunks(int64_t n, const F& f) {
  const int64_t count = (n + Max - 1) / Max;
  int64_t first = 0;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t size = (n - first + (count - k) - 1) / (count - k);
    equal_chunks_detail::call_sized<Max>(size, first, k, f);
    first += size;
  }
}
