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

}  // namespace
}  // namespace capfilt::model
