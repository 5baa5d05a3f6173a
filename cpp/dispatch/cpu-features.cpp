// Which ISA this process may use: cpuid says what the CPU has, xgetbv says whether
// the OS saves the wider registers (without that, AVX code faults).
#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "convbp/runtime.hpp"

namespace convbp {

namespace {

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

Isa detect() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return Isa::Generic;
  const bool osxsave = ecx & (1u << 27), avx = ecx & (1u << 28), fma = ecx & (1u << 12);
  if (!(osxsave && avx && fma)) return Isa::Generic;
  const uint64_t xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;     // XMM and YMM state
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;   // plus opmask and ZMM state
  if (!os_ymm) return Isa::Generic;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return Isa::Generic;
  const bool avx2 = ebx & (1u << 5);
  const bool avx512f = ebx & (1u << 16), avx512dq = ebx & (1u << 17), avx512bw = ebx & (1u << 30),
             avx512vl = ebx & (1u << 31);
  if (avx2 && os_zmm && avx512f && avx512dq && avx512bw && avx512vl) return Isa::Avx512;
  if (avx2) return Isa::Avx2;
  return Isa::Generic;
}

Isa cap_from_env(Isa detected) {
  const char* env = std::getenv("CONVBP_ISA");
  if (!env || !*env) return detected;
  const std::string v(env);
  Isa cap;
  if (v == "generic") cap = Isa::Generic;
  else if (v == "avx2") cap = Isa::Avx2;
  else if (v == "avx512") cap = Isa::Avx512;
  else throw std::invalid_argument("CONVBP_ISA='" + v + "' is not one of 'generic', 'avx2', 'avx512'");
  return static_cast<int>(cap) < static_cast<int>(detected) ? cap : detected;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "generic";
  }
}

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() {
  static const Isa isa = cap_from_env(detected_isa());
  return isa;
}

}  // namespace convbp
