// `capfilt doctor`: what this machine gives the model (BLAS, threads, CUDA) and how fast it is.

#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

#include "app/build_info.h"
#include "app/cli/commands.h"
#include "model/runtime.h"

namespace capfilt::app {

void add_doctor_commands(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand("doctor", "Report the BLAS, thread count, devices and GEMM speed");
  cmd->callback([&options] {
    apply_runtime(options);
    const model::RuntimeInfo info = model::runtime_info();
    std::cout << "capfilt " << CAPFILT_VERSION << "\n"
              << "LibTorch:          " << info.torch_version << "\n"
              << "BLAS:              " << info.blas_name
              << (info.blas_library.empty() ? "" : " (" + info.blas_library + ")") << "\n"
              << "BLAS threading:    " << info.blas_threading
              << (info.blas_threading == "OpenMP" ? " (shares LibTorch's thread pool)" : "")
              << "\n"
              << "intra-op threads:  " << info.intra_op_threads << " of "
              << info.hardware_threads << " hardware threads\n"
              << "fused attention:   " << (info.fused_attention ? "yes" : "no (LibTorch < 2.0)")
              << "\n"
              << "CUDA:              "
              << (info.cuda_available ? std::to_string(info.cuda_device_count) + " device(s)"
                                      : std::string("not available"))
              << "\n";
    // Where the shipped files are found (an installed package: <prefix>/share/capfilt).
    std::string vocab;
    try {
      vocab = resource_path(options, "bert-base-uncased/vocab.txt");
    } catch (const std::exception& e) {
      vocab = std::string("not found: ") + e.what();
    }
    std::cout << "vocabulary:        " << vocab << "\n";
    std::printf("CPU fp32 GEMM:     %.1f GFLOP/s (1024x1024)\n",
                model::measure_cpu_gemm_gflops());
  });
}

}  // namespace capfilt::app
