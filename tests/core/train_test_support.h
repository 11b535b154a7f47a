#pragma once
// Shared by the training tests (tests/core/training_job_test.cpp and
// tests/engine/distributed_train_test.cpp): a scratch folder for the running test with a small
// demo dataset in it.

#include <gtest/gtest.h>

#include <filesystem>

#include "core/demo_data.h"
#include "test_paths.h"

namespace capfilt::core::train_test {

// <scratch>/<test name>, emptied, with 60 demo images of 32 px (seed 5) under data/.
inline std::filesystem::path scratch_with_demo_data() {
  const std::filesystem::path root = std::filesystem::path(capfilt::test::kScratchDir) /
                                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(root);
  DemoDataOptions d;
  d.count = 60;
  d.image_size = 32;
  d.seed = 5;
  auto s = generate_demo_data((root / "data").string(), d);
  EXPECT_TRUE(s) << s.status().message();
  return root;
}

}  // namespace capfilt::core::train_test
