// What an export contains is chosen explicitly and written down with it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/dataset_readers.h"
#include "core/exporter.h"
#include "core/importer.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

// A project with a web caption per image kept or dropped, a synthetic one kept or undecided, and a
// human one (dropped for one image).
class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = open_project(dir_ / "p.capfilt");
    std::vector<db::ImageWithCaptions> batch;
    for (const char* path : {"000000006818.jpg", "000000041888.jpg"}) {
      db::ImageWithCaptions item;
      item.image.path = path;
      item.image.split = "train";
      item.captions = {{std::string("web, \"quoted\" ") + path, db::CaptionSource::kWeb, 0},
                       {std::string("synthetic\n") + path, db::CaptionSource::kSynthetic, 0},
                       {std::string("human ") + path, db::CaptionSource::kHuman, 0}};
      batch.push_back(item);
    }
    ASSERT_TRUE(project_->insert_pairs(batch).is_ok());
    std::vector<db::DecisionInput> decisions;
    for (const auto& row : all_pairs(*project_)) {
      const bool first = row.image.path == "000000006818.jpg";
      if (row.caption.source == db::CaptionSource::kWeb) {
        decisions.push_back({row.caption_id, first ? db::Decision::kKeep : db::Decision::kDrop,
                             db::DecisionOrigin::kAuto, "filter", "test"});
      } else if (row.caption.source == db::CaptionSource::kSynthetic && first) {
        decisions.push_back(
            {row.caption_id, db::Decision::kKeep, db::DecisionOrigin::kAuto, "filter", "test"});
      } else if (row.caption.source == db::CaptionSource::kHuman && !first) {
        decisions.push_back(
            {row.caption_id, db::Decision::kDrop, db::DecisionOrigin::kCurator, "ann", "typo"});
      }
    }
    ASSERT_TRUE(project_->decide(decisions).is_ok());
  }

  std::vector<std::string> exported_captions(const ExportSelection& selection) {
    ExportOptions options;
    options.format = ExportFormat::kBlipJson;
    options.selection = selection;
    const fs::path out = dir_ / "sel.json";
    Result<ExportReport> r = export_dataset(*project_, out, options);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    std::vector<std::string> captions;
    for (const auto& entry : nlohmann::json::parse(read_file(out)))
      captions.push_back(entry["caption"]);
    std::sort(captions.begin(), captions.end());
    return captions;
  }

  ScratchDir dir_;
  std::unique_ptr<db::Project> project_;
};

TEST_F(Export, SelectionPicksKeptWebKeptSyntheticAndHuman) {
  EXPECT_EQ(exported_captions(ExportSelection{}),
            (std::vector<std::string>{"human 000000006818.jpg", "synthetic\n000000006818.jpg",
                                      "web, \"quoted\" 000000006818.jpg"}));
  ExportSelection web_only;
  web_only.kept_synthetic = web_only.human = false;
  EXPECT_EQ(exported_captions(web_only),
            (std::vector<std::string>{"web, \"quoted\" 000000006818.jpg"}));
  ExportSelection with_undecided;
  with_undecided.undecided = true;
  with_undecided.human = false;
  EXPECT_EQ(exported_captions(with_undecided),
            (std::vector<std::string>{"synthetic\n000000006818.jpg", "synthetic\n000000041888.jpg",
                                      "web, \"quoted\" 000000006818.jpg"}));
  ExportSelection other_split;
  other_split.split = "val";
  EXPECT_TRUE(exported_captions(other_split).empty());
}

TEST_F(Export, ManifestNamesTheSelection) {
  ExportOptions options;
  options.format = ExportFormat::kCsv;
  options.selection.kept_synthetic = false;
  Result<ExportReport> r = export_dataset(*project_, dir_ / "out.csv", options);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->contents, "kept web + human (not dropped)");
  EXPECT_EQ(r->pairs, 2);
  const auto manifest = nlohmann::json::parse(read_file(dir_ / "out.csv.capfilt.json"));
  EXPECT_EQ(manifest["contains"], "kept web + human (not dropped)");
  EXPECT_EQ(manifest["selection"]["kept_synthetic"], false);
  EXPECT_EQ(manifest["pairs"], 2);
}

TEST_F(Export, CsvQuotesWhatNeedsQuotingAndReadsBack) {
  ExportOptions options;
  options.format = ExportFormat::kCsv;
  ASSERT_TRUE(export_dataset(*project_, dir_ / "out.csv", options).is_ok());
  const std::string text = read_file(dir_ / "out.csv");
  EXPECT_EQ(text.rfind("image,caption,source,split\r\n", 0), 0u);
  EXPECT_NE(text.find("\"web, \"\"quoted\"\" 000000006818.jpg\",web,train"), std::string::npos)
      << text;
  Result<DatasetContents> back = read_csv(dir_ / "out.csv");
  ASSERT_TRUE(back.is_ok());
  EXPECT_TRUE(back->skipped.empty());
  ASSERT_EQ(back->records.size(), 3u);
  EXPECT_EQ(back->records[1].caption, "synthetic\n000000006818.jpg");
}

TEST_F(Export, CocoCarriesTheSelectionInInfo) {
  ExportOptions options;
  options.format = ExportFormat::kCoco;
  options.absolute_paths = true;
  options.dataset_root = coco_images();
  ASSERT_TRUE(export_dataset(*project_, dir_ / "coco.json", options).is_ok());
  const auto coco = nlohmann::json::parse(read_file(dir_ / "coco.json"));
  EXPECT_EQ(coco["info"]["contains"], "kept web + kept synthetic + human (not dropped)");
  ASSERT_EQ(coco["images"].size(), 1u);
  EXPECT_EQ(coco["images"][0]["file_name"],
            (fs::absolute(coco_images()) / "000000006818.jpg").string());
  EXPECT_EQ(coco["annotations"].size(), 3u);
}

TEST_F(Export, WebDatasetReportsImagesItCannotRead) {
  ExportOptions options;
  options.format = ExportFormat::kWebDataset;
  options.dataset_root = dir_ / "nowhere";
  Result<ExportReport> r = export_dataset(*project_, dir_ / "wds", options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->pairs, 0);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].where, "000000006818.jpg");
  EXPECT_FALSE(fs::exists(dir_ / "wds/shard-000000.tar"));
}

TEST_F(Export, TextThatIsNotUtf8InTheProjectDoesNotBreakAJsonExport) {
  // The importer refuses such text, but a project may have been written by other tools.
  db::ImageWithCaptions item;
  item.image.path = "x.jpg";
  item.captions = {{"caf\xe9", db::CaptionSource::kHuman, 0}};
  ASSERT_TRUE(project_->insert_pairs({item}).is_ok());
  ExportOptions options;
  options.selection.kept_web = options.selection.kept_synthetic = false;
  ASSERT_TRUE(export_dataset(*project_, dir_ / "h.json", options).is_ok());
  const auto out = nlohmann::json::parse(read_file(dir_ / "h.json"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1]["caption"], "caf\xef\xbf\xbd");  // U+FFFD
}

}  // namespace
}  // namespace capfilt::core
