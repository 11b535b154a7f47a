// import → export → import gives the same pairs, for every export format, on the real COCO subset.

#include <gtest/gtest.h>

#include "core/exporter.h"
#include "core/importer.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

class RoundTrip : public ::testing::TestWithParam<ExportFormat> {};

TEST_P(RoundTrip, ImportExportImportGivesTheSamePairs) {
  ScratchDir dir;
  auto original = open_project(dir / "original.capfilt");
  ImportOptions import_options;
  import_options.dataset_root = coco_images();
  import_options.source = db::CaptionSource::kHuman;  // human captions are exported undecided
  ASSERT_TRUE(import_dataset(*original, coco_dir() / "captions.json", import_options).is_ok());

  ExportOptions export_options;
  export_options.format = GetParam();
  export_options.dataset_root = coco_images();
  export_options.shard_size = 10;
  const bool shards = GetParam() == ExportFormat::kWebDataset;
  const fs::path out =
      dir / (shards ? "wds"
                    : std::string("export.") + (GetParam() == ExportFormat::kCsv ? "csv" : "json"));
  Result<ExportReport> exported = export_dataset(*original, out, export_options);
  ASSERT_TRUE(exported.is_ok()) << exported.status().message();
  EXPECT_EQ(exported->pairs, 165);
  EXPECT_EQ(exported->images, 33);
  EXPECT_TRUE(exported->skipped.empty()) << dump(exported->skipped);
  if (shards) EXPECT_EQ(exported->files.size(), 4u + 1u);  // 33 images in shards of 10, + manifest

  auto copy = open_project(dir / "copy.capfilt");
  ImportOptions again;
  again.dataset_root = shards ? dir / "extracted" : coco_images();
  Result<ImportReport> reimported = import_dataset(*copy, out, again);
  ASSERT_TRUE(reimported.is_ok()) << reimported.status().message();
  EXPECT_TRUE(reimported->skipped.empty()) << dump(reimported->skipped);

  // WebDataset renames images to their sample keys; the bytes are the same.
  EXPECT_EQ(content_pairs(*copy), content_pairs(*original));
  if (!shards) {
    EXPECT_EQ(named_pairs(*copy), named_pairs(*original));
    std::multiset<std::pair<std::string, std::string>> splits_a, splits_b;
    for (const auto& r : all_pairs(*original)) splits_a.insert({r.image.path, r.image.split});
    for (const auto& r : all_pairs(*copy)) splits_b.insert({r.image.path, r.image.split});
    if (GetParam() != ExportFormat::kBlipJson)
      EXPECT_EQ(splits_a, splits_b);  // BLIP JSON has no split
  }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, RoundTrip,
                         ::testing::Values(ExportFormat::kBlipJson, ExportFormat::kCoco,
                                           ExportFormat::kCsv, ExportFormat::kWebDataset),
                         [](const auto& info) {
                           return std::string(export_format_name(info.param));
                         });

}  // namespace
}  // namespace capfilt::core
