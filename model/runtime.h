#pragma once
// The compute environment the model runs in: intra-op threads, the BLAS behind LibTorch, and the
// device. Torch-free so that app/ and core/ can include it cheaply.

#include <string>

namespace capfilt::model {

// Where tensors live. Parsed from "auto", "cpu", "cuda" or "cuda:N".
struct DeviceSpec {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;

  std::string to_string() const;
};

// Parses `text`; "auto" picks CUDA device 0 when one is available. Returns false and sets `error`
// for anything else or for a CUDA device that is not there.
bool parse_device(const std::string& text, DeviceSpec* out, std::string* error);

// Sets LibTorch's intra-op thread count. `threads` <= 0 means all hardware threads. LibTorch starts
// with one thread on small machines, so every executable calls this once at start-up.
void configure_threads(int threads);

struct RuntimeInfo {
  std::string torch_version;
  std::string blas_library;  // resolved path of the BLAS shared object LibTorch loaded
  std::string blas_name;     // "OpenBLAS", "reference BLAS", "MKL", ... or "unknown"
  // How the BLAS runs in parallel: "OpenMP" (shares LibTorch's pool), "pthreads" (its own pool),
  // "serial", or "unknown".
  std::string blas_threading;
  int intra_op_threads = 0;
  int hardware_threads = 0;
  bool cuda_available = false;
  int cuda_device_count = 0;
  bool fused_attention = false;  // scaled_dot_product_attention available (LibTorch >= 2.0)
};

RuntimeInfo runtime_info();

// A warning for a curator when the BLAS keeps its own thread pool beside LibTorch's OpenMP pool
// with more than one thread: the two pools busy-wait against each other (decoding measured 2-4.5x
// slower). Empty when there is nothing to warn about.
std::string thread_pool_warning(const RuntimeInfo& info);

// Multiplies two n×n fp32 matrices on the CPU `repeats` times; returns GFLOP/s.
double measure_cpu_gemm_gflops(int n = 1024, int repeats = 5);

}  // namespace capfilt::model
