// GEMM block sizes from the cache sizes (the BLIS analytical model, simplified):
//   kc: the A micro-panel (MR x kc), reused across a whole B block, stays in
//       half of L1 while B micro-panels stream past it;
//   nc: the packed B block (kc x nc), reused by every A micro-panel, stays in
//       half of L2;
//   mc: the packed A block (mc x kc), shared by the team, in a quarter of L3.
#include <algorithm>

#include "dispatch/cache-sizes.hpp"
#include "drivers/gemm.hpp"

namespace convbp {

template <typename T>
GemmBlocking gemm_blocking(const GemmUkernel<T>& uk) {
  const CacheSizes& cs = cache_sizes();
  const int64_t s = sizeof(T);
  int64_t kc = cs.l1d / 2 / (uk.mr * s);
  kc = std::clamp<int64_t>(kc / 16 * 16, 64, 1024);
  int64_t nc = cs.l2 / 2 / (kc * s);
  nc = std::max<int64_t>(nc / uk.nr, 2) * uk.nr;
  int64_t mc = cs.l3 / 4 / (kc * s);
  mc = std::clamp<int64_t>(mc / uk.mr, 8, 1 << 16) * uk.mr;
  return GemmBlocking{mc, kc, nc};
}

template GemmBlocking gemm_blocking<float>(const GemmUkernel<float>&);
template GemmBlocking gemm_blocking<double>(const GemmUkernel<double>&);

}  // namespace convbp
