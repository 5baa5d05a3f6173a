// A minimal test harness for the C++ tests (no framework dependency): CHECK
// records a failure with its location and keeps going; main returns
// test_exit_code(), which ctest reads.
#pragma once

#include <cstdio>

#include "dispatch/kernel-table.hpp"

namespace convbp_test {

// Calls f(isa, kernel_table_for(isa)) for every ISA this CPU and OS run, so each
// kernel is tested on one machine whatever CONVBP_ISA says; says which it skips.
template <typename F>
void for_each_runnable_isa(F&& f) {
  using convbp::Isa;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    if (static_cast<int>(isa) > static_cast<int>(convbp::detected_isa())) {
      std::printf("skipping %s: this CPU/OS does not run it\n", convbp::isa_name(isa));
      continue;
    }
    f(isa, convbp::kernel_table_for(isa));
  }
}

inline int& failures() {
  static int n = 0;
  return n;
}
inline long& checks() {
  static long n = 0;
  return n;
}

inline int test_exit_code(const char* name) {
  std::printf("%s: %ld checks, %d failures\n", name, checks(), failures());
  return failures() == 0 ? 0 : 1;
}

}  // namespace convbp_test

// Prints at most 20 failures, so a broken kernel does not flood the log.
#define CHECK(cond, ...)                                                        \
  do {                                                                          \
    ++convbp_test::checks();                                                    \
    if (!(cond)) {                                                              \
      if (++convbp_test::failures() <= 20) {                                    \
        std::printf("%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);    \
        std::printf(__VA_ARGS__);                                               \
        std::printf("\n");                                                      \
      }                                                                         \
    }                                                                           \
  } while (0)
