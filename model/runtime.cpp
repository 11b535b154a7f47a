#include "model/runtime.h"

#include <link.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace capfilt::model {
namespace {

// Finds the first loaded shared object whose file name contains "blas" (or MKL).
int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  const std::string file = name.substr(name.find_last_of('/') + 1);
  if (out->empty() && (file.find("blas") != std::string::npos ||
                       file.find("mkl_rt") != std::string::npos ||
                       file.find("mkl_core") != std::string::npos)) {
    *out = name;
  }
  return 0;
}

std::string resolve(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return path;
  std::string result(real);
  std::free(real);
  return result;
}

std::string blas_name_of(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower.find("openblas") != std::string::npos) return "OpenBLAS";
  if (lower.find("mkl") != std::string::npos) return "MKL";
  if (lower.find("blis") != std::string::npos) return "BLIS";
  if (lower.find("atlas") != std::string::npos) return "ATLAS";
  if (lower.find("/blas/") != std::string::npos) return "reference BLAS (slow: install OpenBLAS)";
  if (lower.empty()) return "built into LibTorch (MKL or OpenBLAS)";
  return "unknown";
}

// Debian installs each OpenBLAS build in a folder named for its threading (openblas-pthread,
// openblas-openmp, openblas-serial); upstream builds name the library libopenblasp / libopenblaso.
std::string blas_threading_of(const std::string& path) {
  if (path.find("openblas-openmp") != std::string::npos ||
      path.find("libopenblaso") != std::string::npos) {
    return "OpenMP";
  }
  if (path.find("openblas-pthread") != std::string::npos ||
      path.find("libopenblasp") != std::string::npos) {
    return "pthreads";
  }
  if (path.find("openblas-serial") != std::string::npos || path.find("/blas/") != std::string::npos) {
    return "serial";
  }
  return "unknown";
}

}  // namespace

std::string DeviceSpec::to_string() const {
  return kind == Kind::kCpu ? "cpu" : "cuda:" + std::to_string(index);
}

bool parse_device(const std::string& text, DeviceSpec* out, std::string* error) {
  DeviceSpec spec;
  if (text == "cpu") {
    *out = spec;
    return true;
  }
  const bool have_cuda = torch::cuda::is_available();
  if (text == "auto") {
    if (have_cuda) spec.kind = DeviceSpec::Kind::kCuda;
    *out = spec;
    return true;
  }
  if (text.rfind("cuda", 0) == 0) {
    spec.kind = DeviceSpec::Kind::kCuda;
    if (text.size() > 4) {
      if (text[4] != ':' || text.size() == 5 ||
          !std::all_of(text.begin() + 5, text.end(), ::isdigit)) {
        *error = "device '" + text + "' is not of the form cuda:N";
        return false;
      }
      spec.index = std::stoi(text.substr(5));
    }
    const int count = have_cuda ? static_cast<int>(torch::cuda::device_count()) : 0;
    if (spec.index >= count) {
      *error = count == 0 ? "device '" + text + "' requested but no CUDA device is available" +
                                (torch::cuda::is_available() ? "" : " (this LibTorch build or machine has none)")
                          : "device '" + text + "' does not exist: " + std::to_string(count) +
                                " CUDA device(s) found";
      return false;
    }
    *out = spec;
    return true;
  }
  *error = "unknown device '" + text + "': use auto, cpu, cuda or cuda:N";
  return false;
}

void configure_threads(int threads) {
  const int hardware = std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(threads > 0 ? threads : hardware);
}

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                       std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  std::string blas;
  dl_iterate_phdr(find_blas, &blas);
  info.blas_library = blas.empty() ? "" : resolve(blas);
  info.blas_name = blas_name_of(info.blas_library);
  info.blas_threading = blas_threading_of(info.blas_library);
  info.intra_op_threads = torch::get_num_threads();
  info.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
#if TORCH_VERSION_MAJOR >= 2
  info.fused_attention = true;
#endif
  return info;
}

std::string thread_pool_warning(const RuntimeInfo& info) {
  if (info.blas_threading != "pthreads" || info.intra_op_threads <= 1) return {};
  return "warning: LibTorch runs " + std::to_string(info.intra_op_threads) +
         " OpenMP threads beside the pthreads OpenBLAS (" + info.blas_library +
         "), whose own thread pool fights them for the cores (2-4.5x slower decoding measured). "
         "Install libopenblas0-openmp and select it: update-alternatives --set "
         "libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 "
         "(installer/dev.sh does both), or run with --threads 1. On a machine shared with other "
         "work, OMP_WAIT_POLICY=PASSIVE also stops LibTorch's own threads from spinning.";
}

double measure_cpu_gemm_gflops(int n, int repeats) {
  torch::NoGradGuard no_grad;
  const auto a = torch::randn({n, n});
  const auto b = torch::randn({n, n});
  torch::mm(a, b);  // warm-up: thread pool and BLAS initialisation
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) torch::mm(a, b);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return 2.0 * n * n * n * repeats / elapsed.count() / 1e9;
}

}  // namespace capfilt::model
