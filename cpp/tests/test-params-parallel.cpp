// ConvParams arithmetic and validation, and parallel_for's guarantee that an
// exception thrown inside the OpenMP region reaches the caller (never escapes it).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "convbp/params.hpp"
#include "convbp/runtime.hpp"
#include "drivers/parallel.hpp"

using convbp::ConvParams;

static int failures = 0;
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                            \
    }                                                                        \
  } while (0)

static ConvParams base() {
  ConvParams p;
  p.N = 2; p.C = 4; p.H = 7; p.W = 5; p.K = 6; p.R = 3; p.S = 2; p.groups = 2;
  return p;
}

// validate() must throw std::invalid_argument whose message contains `needle`.
static void expect_invalid(const ConvParams& p, const std::string& needle) {
  try {
    p.validate();
    std::fprintf(stderr, "expected invalid_argument containing '%s', got none\n", needle.c_str());
    ++failures;
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).find(needle) == std::string::npos) {
      std::fprintf(stderr, "message '%s' lacks '%s'\n", e.what(), needle.c_str());
      ++failures;
    }
  }
}

int main() {
  // Output size: P = (H + top + bottom - dh*(R-1) - 1) // sh + 1.
  ConvParams p = base();
  p.validate();
  CHECK(p.P() == 5 && p.Q() == 4);
  p.stride_h = 2; p.pad_top = 1; p.pad_bottom = 2; p.dil_h = 2;
  CHECK(p.P() == (7 + 3 - 4 - 1) / 2 + 1);
  CHECK(p.flops() == 2.0 * 2 * 6 * 2 * 3 * 2 * p.P() * p.Q());

  { ConvParams q = base(); q.N = 0; q.validate(); CHECK(q.y_size() == 0); }  // batch 0 is valid
  { ConvParams q = base(); q.groups = 3; expect_invalid(q, "groups=3 must divide in_channels C=4"); }
  { ConvParams q = base(); q.groups = 0; expect_invalid(q, "groups=0"); }
  { ConvParams q = base(); q.stride_w = 0; expect_invalid(q, "stride=(1, 0)"); }
  { ConvParams q = base(); q.dil_h = -1; expect_invalid(q, "dilation=(-1, 1)"); }
  { ConvParams q = base(); q.pad_left = -2; expect_invalid(q, "padding=(0, 0, -2, 0)"); }
  { ConvParams q = base(); q.R = 9; expect_invalid(q, "output size would be < 1"); }
  { ConvParams q = base(); q.spatial_dims = 1; q.H = 1; q.R = 1; q.stride_w = 0; expect_invalid(q, "stride=0"); }
  { ConvParams q = base(); q.N = int64_t(1) << 40; q.H = int64_t(1) << 30; expect_invalid(q, "overflow"); }
  { ConvParams q = base(); q.pad_bottom = INT64_MAX; expect_invalid(q, "overflow"); }

  // parallel_for: every index runs once; an exception inside is rethrown outside.
  for (int threads : {1, 2, 4}) {
    convbp::set_num_threads(threads);
    std::vector<int> hits(1000, 0);
    convbp::parallel_for(1000, [&](int64_t i) { hits[i] += 1; });
    bool all_once = true;
    for (int h : hits) all_once = all_once && h == 1;
    CHECK(all_once);
    bool caught = false;
    try {
      convbp::parallel_for(1000, [&](int64_t i) {
        if (i % 97 == 13) throw std::runtime_error("boom " + std::to_string(i));
      });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()).rfind("boom ", 0) == 0;
    }
    CHECK(caught);
  }
  bool refused = false;
  try { convbp::set_num_threads(0); } catch (const std::invalid_argument&) { refused = true; }
  CHECK(refused);

  // valid_range: o in [lo, hi) exactly when 0 <= o*stride + offset < limit.
  for (int64_t off = -7; off <= 7; ++off)
    for (int64_t st = 1; st <= 4; ++st) {
      int64_t lo, hi;
      convbp::valid_range(off, st, 5, 6, lo, hi);
      for (int64_t o = 0; o < 6; ++o) {
        const bool in = o * st + off >= 0 && o * st + off < 5;
        CHECK(in == (o >= lo && o < hi));
      }
    }

  if (failures) std::fprintf(stderr, "%d check(s) failed\n", failures);
  else std::printf("test-params-parallel: all checks passed\n");
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
