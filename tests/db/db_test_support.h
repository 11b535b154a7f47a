#pragma once
// Shared helpers for the db/ tests: a fake clock, a scratch folder, a small seeded project.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "db/clock.h"
#include "db/project.h"
#include "test_paths.h"

namespace capfilt::db::test {

// Time stands still until a test moves it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  void advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

// A fresh folder under the build's scratch folder, removed with its content at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::create_directories(capfilt::test::kScratchDir);
    std::string pattern = std::string(capfilt::test::kScratchDir) + "/db-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<Project> open_or_die(const std::string& path, const Clock* clock,
                                            int busy_timeout_ms = 5000) {
  OpenOptions options;
  options.clock = clock;
  options.busy_timeout_ms = busy_timeout_ms;
  auto project = Project::open(path, options);
  EXPECT_TRUE(project.is_ok()) << project.status().message();
  return project.is_ok() ? std::move(project).value() : nullptr;
}

inline ImageWithCaptions image(const std::string& path, const std::string& split,
                               std::vector<CaptionRecord> captions) {
  ImageWithCaptions item;
  item.image.path = path;
  item.image.width = 640;
  item.image.height = 480;
  item.image.byte_size = 1000;
  item.image.content_hash = "hash-" + path;
  item.image.split = split;
  item.captions = std::move(captions);
  return item;
}

// Caption ids of a page, in order.
inline std::vector<int64_t> ids(const Page& page) {
  std::vector<int64_t> out;
  for (const auto& row : page.rows) out.push_back(row.caption_id);
  return out;
}

}  // namespace capfilt::db::test
