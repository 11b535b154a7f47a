// Every kind of bad input is imported as far as it is sound and reported by file and line; nothing
// of a rejected entry reaches the project.

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "core/importer.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

std::uint32_t crc32(const std::string& bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A PNG that claims 30000 × 30000 pixels (900 MP): a decompression bomb by its header alone.
std::string enormous_png() {
  std::string ihdr = "IHDR" + be32(30000) + be32(30000) + std::string("\x08\x02\x00\x00\x00", 5);
  std::string png = "\x89PNG\r\n\x1a\n";
  png += be32(13) + ihdr + be32(crc32(ihdr));
  std::string idat = "IDAT" + std::string(64, '\0');
  png += be32(64) + idat + be32(crc32(idat));
  std::string iend = "IEND";
  png += be32(0) + iend + be32(crc32(iend));
  return png;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    fs::create_directories(root_);
    const std::string jpeg = read_file(coco_images() / "000000006818.jpg");
    write_file(root_ / "good.jpg", jpeg);
    write_file(root_ / "good2.jpg", read_file(coco_images() / "000000041888.jpg"));
    write_file(root_ / "empty.jpg", "");
    write_file(root_ / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
    write_file(root_ / "not_image.jpg", "<html>404 Not Found</html>\n");
    write_file(root_ / "huge.png", enormous_png());
    write_file(dir_ / "outside.jpg", jpeg);
    fs::create_symlink(dir_ / "outside.jpg", root_ / "link_out.jpg");
    fs::create_directory(root_ / "folder.jpg");
    project_ = open_project(dir_ / "p.capfilt");
  }

  Result<ImportReport> run(const fs::path& dataset) {
    ImportOptions options;
    options.dataset_root = root_;
    options.batch_size = 3;
    return import_dataset(*project_, dataset, options);
  }

  std::set<std::string> stored_paths() {
    std::set<std::string> out;
    for (const auto& row : all_pairs(*project_)) out.insert(row.image.path);
    return out;
  }

  ScratchDir dir_;
  fs::path root_;
  std::unique_ptr<db::Project> project_;
};

TEST_F(BadInput, ImagesThatAreMissingEmptyTruncatedNotImagesEnormousOrOutside) {
  write_file(dir_ / "list.csv",
             "image,caption\n"
             "good.jpg,a good pair\n"         // line 2
             "missing.jpg,no such file\n"     // line 3
             "empty.jpg,zero bytes\n"         // line 4
             "truncated.jpg,half a jpeg\n"    // line 5
             "not_image.jpg,an html page\n"   // line 6
             "huge.png,a bomb\n"              // line 7
             "link_out.jpg,symlink out\n"     // line 8
             "folder.jpg,a folder\n"          // line 9
             "good2.jpg,another good pair\n"  // line 10
             "good.jpg,second caption of a good image\n");
  Result<ImportReport> r = run(dir_ / "list.csv");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& s = r->skipped;
  EXPECT_TRUE(has_skip(s, "list.csv line 3", "not found")) << dump(s);
  EXPECT_TRUE(has_skip(s, "list.csv line 4", "empty (zero-byte)"));
  EXPECT_TRUE(has_skip(s, "list.csv line 5", "truncated"));
  EXPECT_TRUE(has_skip(s, "list.csv line 6", "not_image.jpg"));
  EXPECT_TRUE(has_skip(s, "list.csv line 7", "huge.png"));
  EXPECT_TRUE(has_skip(s, "list.csv line 8", "through a symlink"));
  EXPECT_TRUE(has_skip(s, "list.csv line 9", "not a regular file"));
  EXPECT_EQ(s.size(), 7u);
  EXPECT_EQ(r->counts.captions_added, 3);
  EXPECT_EQ(stored_paths(), (std::set<std::string>{"good.jpg", "good2.jpg"}));

  // The run and its report are in the project.
  const db::ImportRun run = project_->import_runs()->at(0);
  EXPECT_EQ(run.status, "completed");
  EXPECT_EQ(run.records_rejected, 7);
  EXPECT_NE(run.report.find("list.csv line 5: "), std::string::npos) << run.report;
}

TEST_F(BadInput, EnormousImageIsRefusedFromItsHeader) {
  write_file(dir_ / "one.jsonl", R"({"image": "huge.png", "caption": "a bomb"})"
                                 "\n");
  Result<ImportReport> r = run(dir_ / "one.jsonl");
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_NE(r->skipped[0].reason.find("900000000"), std::string::npos) << r->skipped[0].reason;
}

TEST_F(BadInput, PathsEscapingTheRoot) {
  Result<ImportReport> r = run(import_data() / "escaping_paths.csv");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& s = r->skipped;
  EXPECT_TRUE(has_skip(s, "escaping_paths.csv line 2", "escapes the dataset root")) << dump(s);
  EXPECT_TRUE(has_skip(s, "line 3", "escapes the dataset root"));
  EXPECT_TRUE(has_skip(s, "line 4", "absolute path"));
  EXPECT_TRUE(has_skip(s, "line 5", "absolute path"));
  // Line 6 is a sound path to 000000006818.jpg, which is not in this root.
  EXPECT_TRUE(has_skip(s, "line 6", "not found"));
  EXPECT_EQ(s.size(), 5u);
  EXPECT_TRUE(stored_paths().empty());
}

TEST_F(BadInput, CaptionsThatAreNotUtf8) {
  // The file names COCO images; import it against the COCO folder.
  ImportOptions options;
  options.dataset_root = coco_images();
  Result<ImportReport> r = import_dataset(*project_, import_data() / "latin1_caption.csv", options);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(
      has_skip(r->skipped, "latin1_caption.csv line 2", "not valid UTF-8 (bad byte at offset 3)"))
      << dump(r->skipped);
  EXPECT_TRUE(has_skip(r->skipped, "line 4", "not valid UTF-8"));
  ASSERT_EQ(all_pairs(*project_).size(), 1u);
  EXPECT_EQ(all_pairs(*project_)[0].caption.text, "caf\xc3\xa9 in UTF-8");
}

TEST_F(BadInput, ImagePathsThatAreNotUtf8) {
  ImportOptions options;
  options.dataset_root = coco_images();
  Result<ImportReport> r = import_dataset(*project_, import_data() / "latin1_path.csv", options);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->skipped.size(), 1u) << dump(r->skipped);
  EXPECT_TRUE(has_skip(r->skipped, "latin1_path.csv line 3", "image path is not valid UTF-8"));
  EXPECT_EQ(r->counts.captions_added, 1);
}

TEST_F(BadInput, DuplicateEntries) {
  ImportOptions options;
  options.dataset_root = coco_images();
  Result<ImportReport> r = import_dataset(*project_, import_data() / "duplicates.csv", options);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].where, "duplicates.csv line 3");
  EXPECT_NE(r->skipped[0].reason.find(
                "duplicate entry: the same image and caption as duplicates.csv line 2"),
            std::string::npos);
  EXPECT_EQ(r->counts.captions_added, 2);
}

TEST_F(BadInput, MalformedCsvImportsItsSoundLines) {
  ImportOptions options;
  options.dataset_root = coco_images();
  Result<ImportReport> r = import_dataset(*project_, import_data() / "malformed.csv", options);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->counts.captions_added, 3);
  EXPECT_EQ(r->skipped.size(), 4u);
  const std::string report = project_->import_runs()->at(0).report;
  EXPECT_NE(report.find("malformed.csv line 3, column 32:"), std::string::npos) << report;
  EXPECT_NE(report.find("malformed.csv line 7, column 18: quoted field is never closed"),
            std::string::npos);
}

TEST_F(BadInput, ImageCheckLevels) {
  write_file(dir_ / "g.csv",
             "image,caption\ntruncated.jpg,half\nempty.jpg,nothing\ngood.jpg,fine\n");
  for (ImageCheck check : {ImageCheck::kNone, ImageCheck::kHeader, ImageCheck::kDecode}) {
    ScratchDir other;
    auto project = open_project(other / "p.capfilt");
    ImportOptions options;
    options.dataset_root = root_;
    options.image_check = check;
    Result<ImportReport> r = import_dataset(*project, dir_ / "g.csv", options);
    ASSERT_TRUE(r.is_ok());
    // kNone reads nothing: only existence and size, so the truncated file passes.
    const bool reads = check != ImageCheck::kNone;
    EXPECT_EQ(r->counts.captions_added, reads ? 1 : 2) << image_check_name(check);
    EXPECT_TRUE(has_skip(r->skipped, "g.csv line 3", "zero-byte"));
    EXPECT_EQ(has_skip(r->skipped, "g.csv line 2", "truncated"), reads) << dump(r->skipped);
  }
}

}  // namespace
}  // namespace capfilt::core
