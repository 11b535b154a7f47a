// WebDataset shards: samples are extracted into the dataset root; members that escape are refused.

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "core/importer.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

struct Member {
  std::string name;
  std::string bytes;
  std::string symlink_target;  // non-empty: a symlink member
};

void write_tar(const fs::path& path, const std::vector<Member>& members) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_perm(e, 0644);
    if (m.symlink_target.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(m.bytes.size()));
    } else {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, m.symlink_target.c_str());
      archive_entry_set_size(e, 0);
    }
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!m.bytes.empty()) archive_write_data(a, m.bytes.data(), m.bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST(WebDatasetImport, ExtractsSamplesAndRefusesEscapingMembers) {
  ScratchDir dir;
  const std::string jpeg = read_file(coco_images() / "000000006818.jpg");
  const std::string jpeg2 = read_file(coco_images() / "000000041888.jpg");
  fs::create_directories(dir / "shards");
  write_tar(dir / "shards/shard-00000.tar",
            {{"000000000.jpg", jpeg, ""},
             {"000000000.txt", "a bathroom", ""},
             {"000000000.json", R"({"url": "http://x", "caption": "a bathroom"})", ""},
             {"000000001.jpg", jpeg2, ""},
             {"000000001.json", R"({"caption": ["a sign", "a road sign"]})", ""},
             {"../evil.jpg", jpeg, ""},
             {"../evil.txt", "escaped", ""},
             {"/tmp/capfilt-absolute.jpg", jpeg, ""},
             {"000000002.jpg", "", "/etc/passwd"},
             {"000000002.txt", "a link", ""},
             {"000000003.txt", "caption without image", ""},
             {"sub/000000004.jpg", jpeg2, ""},
             {"sub/000000004.txt", "in a folder", ""}});
  auto project = open_project(dir / "p.capfilt");
  ImportOptions options;
  options.dataset_root = dir / "dataset";
  Result<ImportReport> r = import_dataset(*project, dir / "shards", options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& s = r->skipped;
  EXPECT_TRUE(has_skip(s, "member ../evil.jpg", "tar member escapes the shard")) << dump(s);
  EXPECT_TRUE(has_skip(s, "member ../evil.txt", "tar member escapes"));
  EXPECT_TRUE(has_skip(s, "member /tmp/capfilt-absolute.jpg", "absolute path"));
  EXPECT_TRUE(has_skip(s, "member 000000002.jpg", "not a regular file"));
  EXPECT_TRUE(has_skip(s, "key 000000002", "caption but no image"));
  EXPECT_TRUE(has_skip(s, "key 000000003", "caption but no image"));
  EXPECT_FALSE(fs::exists(dir / "evil.jpg"));
  EXPECT_FALSE(fs::exists(dir / "dataset/evil.jpg"));
  EXPECT_FALSE(fs::exists("/tmp/capfilt-absolute.jpg"));

  std::multiset<NamedPair> expected = {{"000000000.jpg", "a bathroom"},
                                       {"000000001.jpg", "a sign"},
                                       {"000000001.jpg", "a road sign"},
                                       {"000000004.jpg", "in a folder"}};
  EXPECT_EQ(named_pairs(*project), expected);
  EXPECT_EQ(read_file(dir / "dataset/shard-00000/000000000.jpg"), jpeg);
  EXPECT_TRUE(fs::exists(dir / "dataset/shard-00000/sub/000000004.jpg"));
  for (const auto& row : all_pairs(*project))
    EXPECT_EQ(row.image.path.rfind("shard-00000/", 0), 0u);

  // A second import extracts the same files again and stores nothing twice.
  Result<ImportReport> again = import_dataset(*project, dir / "shards/shard-00000.tar", options);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->counts.captions_added, 0);
  EXPECT_EQ(all_pairs(*project).size(), 4u);
}

TEST(WebDatasetImport, TruncatedShardKeepsTheSamplesBeforeTheCut) {
  ScratchDir dir;
  const std::string jpeg = read_file(coco_images() / "000000006818.jpg");
  write_tar(
      dir / "whole.tar",
      {{"a.txt", "first", ""}, {"a.jpg", jpeg, ""}, {"b.txt", "second", ""}, {"b.jpg", jpeg, ""}});
  const std::string tar = read_file(dir / "whole.tar");
  // Cut inside b.jpg's data.
  write_file(dir / "cut.tar", tar.substr(0, tar.size() - 1024 - jpeg.size() / 2));
  auto project = open_project(dir / "p.capfilt");
  ImportOptions options;
  options.dataset_root = dir / "dataset";
  Result<ImportReport> r = import_dataset(*project, dir / "cut.tar", options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(named_pairs(*project), (std::multiset<NamedPair>{{"a.jpg", "first"}}));
  EXPECT_FALSE(r->skipped.empty());
  EXPECT_FALSE(fs::exists(dir / "dataset/cut/b.jpg"));
}

TEST(WebDatasetImport, NotATarIsReported) {
  ScratchDir dir;
  write_file(dir / "fake.tar", "this is not a tar file at all");
  auto project = open_project(dir / "p.capfilt");
  ImportOptions options;
  options.dataset_root = dir / "dataset";
  Result<ImportReport> r = import_dataset(*project, dir / "fake.tar", options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_FALSE(r->skipped.empty());
  EXPECT_EQ(r->skipped[0].where, "fake.tar");
  EXPECT_TRUE(all_pairs(*project).empty());
}

}  // namespace
}  // namespace capfilt::core
