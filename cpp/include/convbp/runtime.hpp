// Run-time configuration: thread count, the ISA in use, build facts.
#pragma once

#include <cstddef>
#include <string>

namespace convbp {

// Threads used by every parallel region of convbp. Starts at OMP_NUM_THREADS (or the
// OpenMP default) and is process-wide, unlike omp_set_num_threads, which only sets
// the calling thread's value: calls made from other Python threads see it too.
constexpr int kMaxThreads = 1024;
int num_threads();
void set_num_threads(int n);  // throws std::invalid_argument unless 1 <= n <= kMaxThreads

// Pins num_threads() on the calling thread for its lifetime (a call's entry point
// holds one). Drivers size per-thread scratch by num_threads() and later open a
// region of num_threads() threads; a set_num_threads() from another Python thread
// in between would give a team larger than the scratch (seen: a heap overflow in
// the im2col forward when tests changed the count while 8 threads were convolving).
class ThreadCountPin {
 public:
  ThreadCountPin();
  ~ThreadCountPin();
  ThreadCountPin(const ThreadCountPin&) = delete;
  ThreadCountPin& operator=(const ThreadCountPin&) = delete;

 private:
  int previous_;
};

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };
const char* isa_name(Isa isa);
Isa detected_isa();  // what the CPU and OS support (cpuid + xgetbv)
// detected_isa() capped by the environment variable CONVBP_ISA=generic|avx2|avx512,
// read once. An unknown value throws std::invalid_argument naming it.
Isa active_isa();

std::string compiler_info();
std::string openmp_info();

// Measured FP32 FMA throughput in GFLOP/s on `threads` threads with the active ISA.
double peak_gflops(int threads, double seconds = 0.2);

// Frees the workspace blocks convbp keeps between calls (drivers/workspace.cpp:
// up to 512 MiB of blocks of 64 KiB and more); returns the bytes freed.
std::size_t release_workspace() noexcept;

}  // namespace convbp
