// Not a timed test: runs the import-rate benchmark (the code behind `capfilt bench-import`) over
// the COCO subset so it can be measured without building the Torch-linked CLI. Labelled `slow`.
// Size by CAPFILT_BENCH_PAIRS (default 100000) and CAPFILT_BENCH_CHECK (none/header/decode).

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "core/import_benchmark.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

TEST(ImportBenchmark, ImportRate) {
  ImportBenchmarkOptions o;
  o.images = coco_images();
  o.workdir = fs::path(capfilt::test::kScratchDir) / "bench-import";
  if (const char* pairs = std::getenv("CAPFILT_BENCH_PAIRS")) o.pairs = std::atoll(pairs);
  if (const char* check = std::getenv("CAPFILT_BENCH_CHECK"))
    ASSERT_TRUE(parse_image_check(check, &o.image_check));
  Result<ImportBenchmarkResult> r = run_import_benchmark(o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->captions_added, o.pairs);
  EXPECT_EQ(r->skipped, 0);
  std::cout << "bench-import (csv, image check " << image_check_name(o.image_check) << ", batch "
            << o.batch_size << " images): " << r->describe() << "\n";
  fs::remove_all(o.workdir);
}

}  // namespace
}  // namespace capfilt::core
