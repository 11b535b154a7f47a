// Linked into every test executable: a test process whose tests all passed removes its scratch
// folder (test_paths.h: kScratchDir) when it ends; a failing one leaves it to be looked at.
// Training tests write checkpoints of tens of megabytes each, and ctest runs every test case in a
// process of its own, so folders kept after passing tests added up to gigabytes in a CI run and
// filled a machine's disk.

#include <gtest/gtest.h>

#include <filesystem>
#include <system_error>

#include "test_paths.h"

namespace {

class RemoveScratchWhenPassed final : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!::testing::UnitTest::GetInstance()->Passed()) return;
    std::error_code ignored;
    std::filesystem::remove_all(capfilt::test::kScratchDir, ignored);
  }
};

// GoogleTest owns the environment; registering at static initialisation is its documented use.
[[maybe_unused]] ::testing::Environment* const kRemoveScratch =
    ::testing::AddGlobalTestEnvironment(new RemoveScratchWhenPassed);

}  // namespace
