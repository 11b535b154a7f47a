#include "model/runtime.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace capfilt::model {
namespace {

TEST(Runtime, ConfigureThreadsSetsTheRequestedCount) {
  configure_threads(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  configure_threads(0);
  EXPECT_EQ(torch::get_num_threads(), runtime_info().hardware_threads);
}

TEST(Runtime, ParsesDevices) {
  DeviceSpec spec;
  std::string error;
  ASSERT_TRUE(parse_device("cpu", &spec, &error));
  EXPECT_EQ(spec.kind, DeviceSpec::Kind::kCpu);
  ASSERT_TRUE(parse_device("auto", &spec, &error));
  EXPECT_FALSE(parse_device("gpu", &spec, &error));
  EXPECT_NE(error.find("unknown device"), std::string::npos);
  EXPECT_FALSE(parse_device("cuda:x", &spec, &error));
  if (!torch::cuda::is_available()) {
    EXPECT_FALSE(parse_device("cuda", &spec, &error));
    EXPECT_NE(error.find("no CUDA device"), std::string::npos);
  }
}

TEST(Runtime, ReportsTheBlasLibTorchLoaded) {
  torch::mm(torch::ones({4, 4}), torch::ones({4, 4}));
  const RuntimeInfo info = runtime_info();
  EXPECT_FALSE(info.torch_version.empty());
  EXPECT_FALSE(info.blas_name.empty());
}

TEST(Runtime, WarnsWhenTheBlasPoolFightsLibTorchs) {
  RuntimeInfo info;
  info.intra_op_threads = 2;
  info.blas_library = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3";
  info.blas_threading = "pthreads";
  const std::string warning = thread_pool_warning(info);
  EXPECT_NE(warning.find("openblas-openmp"), std::string::npos) << warning;
  info.intra_op_threads = 1;  // one LibTorch thread: nothing to fight over
  EXPECT_TRUE(thread_pool_warning(info).empty());
  info.intra_op_threads = 2;
  info.blas_threading = "OpenMP";
  EXPECT_TRUE(thread_pool_warning(info).empty());
}

}  // namespace
}  // namespace capfilt::model
