// The data-cache sizes of one core, read once at run time: Linux sysfs first,
// then cpuid's deterministic cache parameters, then defaults. GEMM block sizes
// (cpp/drivers/gemm-blocking.cpp) are derived from them.
#pragma once

#include <cstdint>
#include <string>

namespace convbp {

struct CacheSizes {
  int64_t l1d = 32 * 1024;         // bytes, per core
  int64_t l2 = 1024 * 1024;        // bytes, per core (or per sharing group)
  int64_t l3 = 8 * 1024 * 1024;    // bytes, total of the last level
  std::string source = "default";  // "sysfs", "cpuid" or "default"
};

const CacheSizes& cache_sizes();

}  // namespace convbp
