// copy_runs in plain C++ (contract: cpp/kernels/kernels.hpp).
#include "kernels/generic/runs-generic.hpp"

namespace convbp::generic {
void f32_copy_runs(const CopyRun* runs, int64_t n, const float* src, float* dst) { copy_runs(runs, n, src, dst); }
void f64_copy_runs(const CopyRun* runs, int64_t n, const double* src, double* dst) { copy_runs(runs, n, src, dst); }
}  // namespace convbp::generic
