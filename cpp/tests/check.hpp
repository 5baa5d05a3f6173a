// A minimal test harness for the C++ tests (no framework dependency): CHECK
// records a failure with its location and keeps going; main returns
// test_exit_code(), which ctest reads.
#pragma once

#include <cstdio>

namespace convbp_test {

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
