// Cache sizes: sysfs (/sys/devices/system/cpu/cpu0/cache/index*/), else cpuid
// leaf 4 (Intel) / 0x8000001D (AMD), else the defaults in the header. Any value
// that cannot be read keeps its default, so the block sizes stay sane.
#include "dispatch/cache-sizes.hpp"

#include <cpuid.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

namespace convbp {

namespace {

bool read_line(const std::string& path, std::string& out) {
  std::ifstream f(path);
  return static_cast<bool>(std::getline(f, out));
}

// "32K", "1024K", "32M", "65536" -> bytes; 0 when unparsable.
int64_t parse_size(const std::string& s) {
  int64_t v = 0;
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
  if (i == 0) return 0;
  if (i < s.size() && (s[i] == 'K' || s[i] == 'k')) v *= 1024;
  else if (i < s.size() && (s[i] == 'M' || s[i] == 'm')) v *= 1024 * 1024;
  return v;
}

// Sets the level's size if it is a data or unified cache of level 1..3.
void set(CacheSizes& c, int level, bool data_or_unified, int64_t bytes, bool& any) {
  if (!data_or_unified || bytes <= 0) return;
  if (level == 1) c.l1d = bytes; else if (level == 2) c.l2 = bytes; else if (level == 3) c.l3 = bytes; else return;
  any = true;
}

bool from_sysfs(CacheSizes& c) {
  bool any = false;
  for (int idx = 0; idx < 16; ++idx) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/";
    std::string level, type, size;
    if (!read_line(dir + "level", level) || !read_line(dir + "type", type) || !read_line(dir + "size", size)) break;
    set(c, std::atoi(level.c_str()), type == "Data" || type == "Unified", parse_size(size), any);
  }
  return any;
}

bool from_cpuid(CacheSizes& c) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  unsigned leaf = 4;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) && ebx == 0x68747541 /* "Auth"enticAMD */) leaf = 0x8000001D;
  if (leaf == 4 && eax < 4) return false;
  if (leaf != 4 && (__get_cpuid_max(0x80000000, nullptr) < leaf)) return false;
  bool any = false;
  for (unsigned sub = 0; sub < 16; ++sub) {
    __cpuid_count(leaf, sub, eax, ebx, ecx, edx);
    const unsigned type = eax & 0x1F;  // 0: no more caches, 1: data, 2: instruction, 3: unified
    if (type == 0) break;
    const int level = (eax >> 5) & 0x7;
    const int64_t ways = ((ebx >> 22) & 0x3FF) + 1, parts = ((ebx >> 12) & 0x3FF) + 1, line = (ebx & 0xFFF) + 1,
                  sets = int64_t(ecx) + 1;
    set(c, level, type == 1 || type == 3, ways * parts * line * sets, any);
  }
  return any;
}

CacheSizes detect() {
  CacheSizes c;
  if (from_sysfs(c)) c.source = "sysfs";
  else if (from_cpuid(c)) c.source = "cpuid";
  return c;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes c = detect();
  return c;
}

}  // namespace convbp
