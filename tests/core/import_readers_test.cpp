// The dataset readers on real and hand-made files: what they read, and where they say a bad entry
// is.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/dataset_readers.h"
#include "core/text_checks.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

TEST(ReadCoco, ReadsEveryCaptionOfTheRealSubset) {
  Result<DatasetContents> c = read_coco_json(coco_dir() / "captions.json");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->records.size(), 165u);
  EXPECT_TRUE(c->skipped.empty()) << dump(c->skipped);
  const DatasetRecord& first = c->records.front();
  EXPECT_EQ(first.image, "000000522418.jpg");
  EXPECT_EQ(first.caption, "A woman wearing a net on her head cutting a cake. ");
  EXPECT_EQ(first.split, "train2017");
  EXPECT_EQ(first.where, "captions.json annotations[0]");
}

TEST(ReadCoco, ReportsAnnotationsOfUnknownImages) {
  ScratchDir dir;
  write_file(dir / "c.json", R"({"images":[{"id":1,"file_name":"a.jpg"}],
    "annotations":[{"image_id":1,"caption":"ok"},{"image_id":2,"caption":"orphan"},{"image_id":1}]})");
  Result<DatasetContents> c = read_coco_json(dir / "c.json");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->records.size(), 1u);
  EXPECT_TRUE(has_skip(c->skipped, "annotations[1]", "image_id 2 is not in")) << dump(c->skipped);
  EXPECT_TRUE(has_skip(c->skipped, "annotations[2]", "needs an \"image_id\" and a \"caption\""));
}

TEST(ReadKarpathy, JoinsFolderAndFileAndKeepsSplit) {
  ScratchDir dir;
  write_file(dir / "k.json", R"({"images":[
    {"filepath":"val2014","filename":"x.jpg","split":"test","sentences":[{"raw":"one"},{"raw":"two"}]},
    {"filepath":"","filename":"y.jpg","split":"restval","sentences":[{"tokens":["no","raw"]}]}]})");
  ASSERT_EQ(detect_format(dir / "k.json").value(), DatasetFormat::kKarpathy);
  Result<DatasetContents> c = read_coco_json(dir / "k.json");
  ASSERT_TRUE(c.is_ok());
  ASSERT_EQ(c->records.size(), 2u);
  EXPECT_EQ(c->records[0].image, "val2014/x.jpg");
  EXPECT_EQ(c->records[1].caption, "two");
  EXPECT_EQ(c->records[0].split, "test");
  EXPECT_TRUE(has_skip(c->skipped, "images[1].sentences[0]", "no \"raw\""));
}

TEST(ReadBlipJson, CaptionIsTextOrList) {
  ScratchDir dir;
  write_file(dir / "b.json",
             R"([{"image":"a.jpg","caption":"one"},{"image":"b.jpg","caption":["x","y"]},
    {"image":"c.jpg","caption":7},{"caption":"no image"}])");
  ASSERT_EQ(detect_format(dir / "b.json").value(), DatasetFormat::kBlipJson);
  Result<DatasetContents> c = read_blip_json(dir / "b.json");
  ASSERT_TRUE(c.is_ok());
  ASSERT_EQ(c->records.size(), 3u);
  EXPECT_EQ(c->records[2].image, "b.jpg");
  EXPECT_EQ(c->records[2].caption, "y");
  EXPECT_TRUE(has_skip(c->skipped, "record 3", "caption is a number"));
  EXPECT_TRUE(has_skip(c->skipped, "record 4", "needs an \"image\""));
}

TEST(ReadJson, MalformedJsonNamesLineAndColumn) {
  Result<DatasetContents> c = read_blip_json(import_data() / "malformed.json");
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), Status::Code::kCorrupt);
  // Line 3 is ` {"image": "000000041888.jpg", "caption": "missing comma" "oops"}`: the parser
  // stops at the second string (nlohmann reports the column of its last character).
  EXPECT_NE(c.status().message().find("malformed.json line 3, column"), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("malformed JSON"), std::string::npos);
}

TEST(ReadCsv, Flickr8kLayoutWithRfc4180Quoting) {
  Result<DatasetContents> c = read_csv(import_data() / "flickr8k_style.csv");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_TRUE(c->skipped.empty()) << dump(c->skipped);
  ASSERT_EQ(c->records.size(), 5u);
  EXPECT_EQ(c->records[0].caption, "A bathroom with a toilet, a sink and a shower.");
  EXPECT_EQ(c->records[1].caption, "A sign that says \"STOP\" next to a road.");
  EXPECT_EQ(c->records[2].caption, "A caption over\ntwo lines.");
  EXPECT_EQ(c->records[3].where, "flickr8k_style.csv line 6");  // after the two-line record
  EXPECT_EQ(c->records[4].caption, "last line, no newline at the end");
}

TEST(ReadCsv, TsvByExtension) {
  Result<DatasetContents> c = read_csv(import_data() / "tab_separated.tsv");
  ASSERT_TRUE(c.is_ok());
  ASSERT_EQ(c->records.size(), 2u);
  EXPECT_EQ(c->records[0].caption, "A bathroom, tab separated.");
  EXPECT_EQ(c->records[1].caption, "Quoted\tfield with a tab");
}

TEST(ReadCsv, MalformedRecordsAreSkippedWithLineAndColumn) {
  Result<DatasetContents> c = read_csv(import_data() / "malformed.csv");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  std::vector<std::string> captions;
  for (const auto& r : c->records) captions.push_back(r.caption);
  EXPECT_EQ(captions, (std::vector<std::string>{"good line one", "good line after the bad ones",
                                                "line inside the unclosed quote"}));
  EXPECT_TRUE(has_skip(c->skipped, "line 3",
                       "line 3, column 32: unexpected character ' ' after a closing quote"))
      << dump(c->skipped);
  EXPECT_TRUE(has_skip(c->skipped, "line 4", "line 4, column 26: quote inside an unquoted field"))
      << dump(c->skipped);
  EXPECT_TRUE(has_skip(c->skipped, "line 5", "4 fields where the header has 2"));
  EXPECT_TRUE(has_skip(c->skipped, "line 7", "line 7, column 18: quoted field is never closed"));
  EXPECT_EQ(c->skipped.size(), 4u);
}

TEST(ReadCsv, HeaderWithoutCaptionColumnIsAnError) {
  ScratchDir dir;
  write_file(dir / "h.csv", "file,label\na.jpg,dog\n");
  Result<DatasetContents> c = read_csv(dir / "h.csv");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("h.csv line 1"), std::string::npos);
}

TEST(ReadCsv, FlickrPipeLayoutIsSniffed) {
  ScratchDir dir;
  write_file(dir / "results.csv", "image_name| comment_number| comment\n1.jpg| 0| A dog runs .\n");
  Result<DatasetContents> c = read_csv(dir / "results.csv");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  ASSERT_EQ(c->records.size(), 1u);
  EXPECT_EQ(c->records[0].image, "1.jpg");
  EXPECT_EQ(c->records[0].caption, "A dog runs .");
}

TEST(ReadJsonl, BadLinesLoseOnlyThemselves) {
  Result<DatasetContents> c = read_jsonl(import_data() / "mixed.jsonl");
  ASSERT_TRUE(c.is_ok());
  std::vector<std::string> captions;
  for (const auto& r : c->records) captions.push_back(r.caption);
  EXPECT_EQ(captions, (std::vector<std::string>{"line one is fine", "two", "captions",
                                                "line seven is fine"}));
  EXPECT_EQ(c->records.back().where, "mixed.jsonl line 7");
  EXPECT_TRUE(
      has_skip(c->skipped, "mixed.jsonl line 3", "mixed.jsonl line 3, column 38: malformed JSON"))
      << dump(c->skipped);
  EXPECT_TRUE(has_skip(c->skipped, "line 5", "needs an \"image\" path and a \"caption\""));
  EXPECT_TRUE(has_skip(c->skipped, "line 6", "caption is a number"));
  EXPECT_EQ(c->skipped.size(), 3u);
}

TEST(ReadFolder, ImagesWithSameNamedTextFiles) {
  ScratchDir dir;
  fs::copy_file(coco_images() / "000000006818.jpg", dir / "a.jpg");
  fs::create_directories(dir / "sub");
  fs::copy_file(coco_images() / "000000041888.jpg", dir / "sub/b.jpg");
  fs::copy_file(coco_images() / "000000051191.jpg", dir / "no_caption.jpg");
  write_file(dir / "a.txt", "first caption\n\nsecond caption\n");
  write_file(dir / "sub/b.txt", "  caption b  ");
  write_file(dir / "orphan.txt", "no image");
  ASSERT_EQ(detect_format(dir.path()).value(), DatasetFormat::kFolder);
  Result<DatasetContents> c = read_caption_folder(dir.path());
  ASSERT_TRUE(c.is_ok());
  ASSERT_EQ(c->records.size(), 3u);
  EXPECT_EQ(c->records[0].image, "a.jpg");
  EXPECT_EQ(c->records[1].caption, "second caption");
  EXPECT_EQ(c->records[1].where, "a.txt line 3");
  EXPECT_EQ(c->records[2].image, "sub/b.jpg");
  EXPECT_EQ(c->records[2].caption, "caption b");
  EXPECT_TRUE(has_skip(c->skipped, "no_caption.jpg", "no caption file"));
  EXPECT_TRUE(has_skip(c->skipped, "orphan.txt", "no image beside it"));
}

TEST(DetectFormat, ByExtensionAndContent) {
  EXPECT_EQ(detect_format(coco_dir() / "captions.json").value(), DatasetFormat::kCoco);
  EXPECT_EQ(detect_format(import_data() / "mixed.jsonl").value(), DatasetFormat::kJsonl);
  EXPECT_EQ(detect_format(import_data() / "tab_separated.tsv").value(), DatasetFormat::kCsv);
  EXPECT_FALSE(detect_format(import_data() / "README.md").is_ok());
  EXPECT_EQ(detect_format(import_data() / "nope.json").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(parse_format_name("webdataset").value(), DatasetFormat::kWebDataset);
  EXPECT_FALSE(parse_format_name("parquet").is_ok());
}

TEST(TextChecks, Utf8Validation) {
  std::size_t bad = 0;
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("caf\xe9", &bad));
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("cut \xe2\x82"));
  const TextPosition p = position_of("ab\ncd\nef", 7);
  EXPECT_EQ(p.line, 3u);
  EXPECT_EQ(p.column, 2u);
}

}  // namespace
}  // namespace capfilt::core
