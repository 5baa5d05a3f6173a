// add_runs in plain C++ (contract: cpp/kernels/kernels.hpp).
#include "kernels/generic/runs-generic.hpp"

namespace convbp::generic {
void f32_add_runs(const CopyRun* runs, int64_t n, const float* src, float* dst) { add_runs(runs, n, src, dst); }
void f64_add_runs(const CopyRun* runs, int64_t n, const double* src, double* dst) { add_runs(runs, n, src, dst); }
}  // namespace convbp::generic
