#pragma once
// Shared helpers for the dataset import/export tests: scratch folders, projects, pair listings.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "db/project.h"
#include "test_paths.h"

namespace capfilt::core::test {

namespace fs = std::filesystem;

inline fs::path coco_dir() {
  return fs::path(capfilt::test::kTestDataDir) / "coco-cc-by";
}
inline fs::path coco_images() {
  return coco_dir() / "images";
}
inline fs::path import_data() {
  return fs::path(capfilt::test::kTestDataDir) / "import";
}

// A fresh folder under the build's scratch folder, removed with its content at the end.
class ScratchDir {
 public:
  ScratchDir() {
    fs::create_directories(capfilt::test::kScratchDir);
    std::string pattern = std::string(capfilt::test::kScratchDir) + "/io-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  fs::path path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::unique_ptr<db::Project> open_project(const fs::path& path) {
  auto project = db::Project::open(path.string());
  EXPECT_TRUE(project.is_ok()) << project.status().message();
  return project.is_ok() ? std::move(project).value() : nullptr;
}

inline std::vector<db::PairRow> all_pairs(db::Project& project) {
  std::vector<db::PairRow> rows;
  Status s = project.for_each_pair(db::PairFilter{}, [&](const db::PairRow& row) {
    rows.push_back(row);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.message();
  return rows;
}

// (image file name, caption): what a dataset says, independent of the folder it was unpacked in.
using NamedPair = std::pair<std::string, std::string>;
inline std::multiset<NamedPair> named_pairs(db::Project& project) {
  std::multiset<NamedPair> out;
  for (const db::PairRow& row : all_pairs(project)) {
    out.insert({fs::path(row.image.path).filename().string(), row.caption.text});
  }
  return out;
}

// (content hash, caption): the same pairs even when the image was renamed (WebDataset keys).
inline std::multiset<NamedPair> content_pairs(db::Project& project) {
  std::multiset<NamedPair> out;
  for (const db::PairRow& row : all_pairs(project))
    out.insert({row.image.content_hash, row.caption.text});
  return out;
}

inline std::string trim_for_test(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// True when some skipped entry's location and reason contain the given fragments.
template <typename Entries>
bool has_skip(const Entries& skipped, const std::string& where_part,
              const std::string& reason_part) {
  return std::any_of(skipped.begin(), skipped.end(), [&](const auto& s) {
    return s.where.find(where_part) != std::string::npos &&
           s.reason.find(reason_part) != std::string::npos;
  });
}

template <typename Entries>
std::string dump(const Entries& skipped) {
  std::string out;
  for (const auto& s : skipped) out += "  [" + s.where + "] " + s.reason + "\n";
  return out;
}

}  // namespace capfilt::core::test
