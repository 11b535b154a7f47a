// The importer on the real COCO subset: what it stores, that a second run adds nothing, progress,
// cancellation between batches, and the import run it records.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/importer.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

TEST(Importer, CocoSubsetIsStoredWholeAndOnce) {
  ScratchDir dir;
  auto project = open_project(dir / "p.capfilt");
  ASSERT_TRUE(project);
  ImportOptions options;
  options.dataset_root = coco_images();
  options.batch_size = 7;
  Result<ImportReport> first = import_dataset(*project, coco_dir() / "captions.json", options);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  EXPECT_EQ(first->status, "completed");
  EXPECT_EQ(first->records_read, 165);
  EXPECT_EQ(first->counts.images_added, 33);
  EXPECT_EQ(first->counts.captions_added, 165);
  EXPECT_TRUE(first->skipped.empty()) << dump(first->skipped);

  const std::vector<db::PairRow> rows = all_pairs(*project);
  ASSERT_EQ(rows.size(), 165u);
  const db::PairRow& row = rows.front();
  EXPECT_EQ(row.image.path, "000000006818.jpg");  // pairs come ordered by path
  EXPECT_GT(row.image.width, 0);
  EXPECT_GT(row.image.byte_size, 0);
  EXPECT_EQ(row.image.content_hash.size(), 16u);
  EXPECT_FALSE(row.image.split.empty());
  EXPECT_EQ(row.caption.source, db::CaptionSource::kWeb);
  std::set<std::string> hashes;
  for (const auto& r : rows) hashes.insert(r.image.content_hash);
  EXPECT_EQ(hashes.size(), 33u);  // 33 different files, 33 different fingerprints
  // Captions are stored trimmed ("... cutting a cake. " in the file).
  for (const auto& r : rows) EXPECT_EQ(r.caption.text, trim_for_test(r.caption.text));

  Result<ImportReport> again = import_dataset(*project, coco_dir() / "captions.json", options);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->counts.images_added, 0);
  EXPECT_EQ(again->counts.captions_added, 0);
  EXPECT_EQ(again->counts.captions_skipped, 165);
  EXPECT_EQ(all_pairs(*project).size(), 165u);

  Result<std::vector<db::ImportRun>> runs = project->import_runs();
  ASSERT_TRUE(runs.is_ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(runs->at(0).status, "completed");
  EXPECT_EQ(runs->at(0).format, "coco");
  EXPECT_EQ(runs->at(0).counts.captions_added, 165);
}

TEST(Importer, ProgressAfterEveryBatchAndCancellationBetweenBatches) {
  ScratchDir dir;
  auto project = open_project(dir / "p.capfilt");
  ImportOptions options;
  options.dataset_root = coco_images();
  options.batch_size = 10;  // 33 images: 4 batches
  std::vector<std::int64_t> done;
  options.progress = [&](const ImportProgress& p) {
    done.push_back(p.records_done);
    EXPECT_EQ(p.records_total, 165);
  };
  int checks = 0;
  options.cancelled = [&] { return ++checks > 2; };  // two batches go through
  Result<ImportReport> r = import_dataset(*project, coco_dir() / "captions.json", options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, "cancelled");
  EXPECT_EQ(r->counts.images_added, 20);
  EXPECT_EQ(done.size(), 2u);
  EXPECT_EQ(all_pairs(*project).size(), static_cast<std::size_t>(r->counts.captions_added));

  // Running it again completes the import without duplicates.
  options.cancelled = nullptr;
  done.clear();
  Result<ImportReport> rest = import_dataset(*project, coco_dir() / "captions.json", options);
  ASSERT_TRUE(rest.is_ok());
  EXPECT_EQ(rest->status, "completed");
  EXPECT_EQ(rest->counts.images_added, 13);
  EXPECT_EQ(done.size(), 4u);
  EXPECT_EQ(done.back(), 165);
  EXPECT_EQ(all_pairs(*project).size(), 165u);
  EXPECT_EQ(project->import_runs()->at(0).status, "cancelled");
}

TEST(Importer, SourceAndSplitOptions) {
  ScratchDir dir;
  auto project = open_project(dir / "p.capfilt");
  ImportOptions options;
  options.dataset_root = coco_images();
  options.source = db::CaptionSource::kHuman;
  options.split = "val";
  Result<ImportReport> r = import_dataset(*project, import_data() / "flickr8k_style.csv", options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->counts.captions_added, 5);
  for (const auto& row : all_pairs(*project)) {
    EXPECT_EQ(row.caption.source, db::CaptionSource::kHuman);
    EXPECT_EQ(row.image.split, "val");
  }
}

TEST(Importer, CaptionFolderDefaultsItsRootToTheFolder) {
  ScratchDir dir;
  fs::create_directories(dir / "data");
  fs::copy_file(coco_images() / "000000006818.jpg", dir / "data/a.jpg");
  write_file(dir / "data/a.txt", "a bathroom\n");
  auto project = open_project(dir / "p.capfilt");
  Result<ImportReport> r = import_dataset(*project, dir / "data", ImportOptions{});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->counts.captions_added, 1);
  EXPECT_EQ(all_pairs(*project).at(0).image.path, "a.jpg");
}

TEST(Importer, UnreadableDatasetIsAnErrorAndARecordedFailure) {
  ScratchDir dir;
  auto project = open_project(dir / "p.capfilt");
  ImportOptions options;
  options.dataset_root = coco_images();
  Result<ImportReport> r = import_dataset(*project, import_data() / "malformed.json", options);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("line 3, column"), std::string::npos) << r.status().message();
  Result<std::vector<db::ImportRun>> runs = project->import_runs();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->at(0).status, "failed");
  EXPECT_NE(runs->at(0).report.find("line 3, column"), std::string::npos);
  EXPECT_TRUE(all_pairs(*project).empty());
}

// The COCO subset rewritten in every other input layout imports to the same pairs.
TEST(Importer, EveryLayoutOfTheCocoSubsetGivesTheSamePairs) {
  ScratchDir dir;
  auto reference = open_project(dir / "coco.capfilt");
  ImportOptions options;
  options.dataset_root = coco_images();
  ASSERT_TRUE(import_dataset(*reference, coco_dir() / "captions.json", options).is_ok());
  const std::multiset<NamedPair> expected = named_pairs(*reference);
  ASSERT_EQ(expected.size(), 165u);

  const auto coco = nlohmann::json::parse(read_file(coco_dir() / "captions.json"));
  std::map<long long, std::string> files;
  for (const auto& image : coco["images"]) files[image["id"].get<long long>()] = image["file_name"];
  nlohmann::json karpathy{{"images", nlohmann::json::array()}};
  std::map<std::string, nlohmann::json> sentences;
  std::string jsonl, csv = "image,caption\n";
  for (const auto& a : coco["annotations"]) {
    const std::string file = files[a["image_id"].get<long long>()];
    const std::string caption = a["caption"];
    sentences[file].push_back({{"raw", caption}});
    jsonl += nlohmann::json{{"image", file}, {"caption", caption}}.dump() + "\n";
    std::string quoted;
    for (char c : caption) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    csv += file + ",\"" + quoted + "\"\n";
  }
  for (const auto& [file, list] : sentences) {
    karpathy["images"].push_back(
        {{"filepath", ""}, {"filename", file}, {"split", "train"}, {"sentences", list}});
  }
  write_file(dir / "karpathy.json", karpathy.dump());
  write_file(dir / "pairs.jsonl", jsonl);
  write_file(dir / "pairs.csv", csv);
  fs::create_directories(dir / "folder");
  for (const auto& [file, list] : sentences) {
    fs::copy_file(coco_images() / file, dir / "folder" / file);
    std::string lines;
    for (const auto& s : list) lines += s["raw"].get<std::string>() + "\n";
    write_file((dir / "folder" / file).replace_extension(".txt"), lines);
  }

  for (const fs::path& dataset :
       {dir / "karpathy.json", dir / "pairs.jsonl", dir / "pairs.csv", dir / "folder"}) {
    auto project = open_project(dir / (dataset.filename().string() + ".capfilt"));
    ImportOptions o;
    o.dataset_root = dataset.filename() == "folder" ? fs::path() : coco_images();
    Result<ImportReport> r = import_dataset(*project, dataset, o);
    ASSERT_TRUE(r.is_ok()) << dataset << ": " << r.status().message();
    EXPECT_TRUE(r->skipped.empty()) << dataset << dump(r->skipped);
    EXPECT_EQ(named_pairs(*project), expected) << dataset;
  }
}

}  // namespace
}  // namespace capfilt::core
