// A process SIGKILLed in the middle of an import leaves a consistent project holding whole batches
// only, and running the import again completes it without duplicates.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "core/image_io.h"
#include "core/importer.h"
#include "import_test_support.h"

namespace capfilt::core {
namespace {

using namespace capfilt::core::test;

constexpr int kImages = 3000;
constexpr int kCaptionsPerImage = 2;
constexpr int kBatch = 20;  // images per transaction

std::string integrity_check(const fs::path& file) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

TEST(ImportCrash, SigkillMidImportLeavesWholeBatchesAndARerunCompletesIt) {
  ScratchDir dir;
  // Many small image files so the import needs many transactions.
  RgbImage tiny;
  tiny.width = tiny.height = 4;
  tiny.pixels.assign(4 * 4 * 3, 200);
  ASSERT_TRUE(write_image_file(tiny, (dir / "seed.png").string()).is_ok());
  fs::create_directories(dir / "root");
  std::string csv = "image,caption\n";
  for (int i = 0; i < kImages; ++i) {
    const std::string name = "img" + std::to_string(i) + ".png";
    fs::copy_file(dir / "seed.png", dir / "root" / name);
    for (int k = 0; k < kCaptionsPerImage; ++k) {
      csv += name + ",caption " + std::to_string(k) + " of image " + std::to_string(i) + "\n";
    }
  }
  write_file(dir / "pairs.csv", csv);
  const fs::path project_file = dir / "p.capfilt";
  ImportOptions options;
  options.dataset_root = dir / "root";
  options.batch_size = kBatch;

  int progress_pipe[2];
  ASSERT_EQ(pipe(progress_pipe), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(progress_pipe[0]);
    auto project = db::Project::open(project_file.string());
    if (!project) _exit(2);
    ImportOptions child_options = options;
    child_options.progress = [&](const ImportProgress&) {
      const char tick = 1;
      if (write(progress_pipe[1], &tick, 1) != 1) _exit(3);
    };
    import_dataset(*project.value(), dir / "pairs.csv", child_options);
    _exit(0);
  }
  close(progress_pipe[1]);
  // Let a few batches commit, then kill while the next one is being validated or written.
  char tick;
  for (int batches = 0; batches < 5; ++batches) ASSERT_EQ(read(progress_pipe[0], &tick, 1), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(progress_pipe[0]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the import finished before the kill";

  EXPECT_EQ(integrity_check(project_file), "ok");
  auto project = open_project(project_file);
  ASSERT_TRUE(project);
  EXPECT_TRUE(project->check().is_ok()) << project->check().message();
  const std::size_t committed = all_pairs(*project).size();
  EXPECT_GE(committed, 5u * kBatch * kCaptionsPerImage);
  EXPECT_LT(committed, static_cast<std::size_t>(kImages * kCaptionsPerImage));
  EXPECT_EQ(committed % (kBatch * kCaptionsPerImage), 0u) << "a batch was half-written";
  ASSERT_EQ(project->import_runs()->size(), 1u);
  EXPECT_EQ(project->import_runs()->at(0).status, "running");  // what the killed run left

  Result<ImportReport> rerun = import_dataset(*project, dir / "pairs.csv", options);
  ASSERT_TRUE(rerun.is_ok()) << rerun.status().message();
  EXPECT_EQ(rerun->status, "completed");
  EXPECT_TRUE(rerun->skipped.empty()) << dump(rerun->skipped);
  EXPECT_EQ(static_cast<std::size_t>(rerun->counts.captions_added) + committed,
            static_cast<std::size_t>(kImages * kCaptionsPerImage));
  const std::multiset<NamedPair> pairs = named_pairs(*project);
  EXPECT_EQ(pairs.size(), static_cast<std::size_t>(kImages * kCaptionsPerImage));
  EXPECT_EQ(std::set<NamedPair>(pairs.begin(), pairs.end()).size(), pairs.size()) << "duplicates";
  EXPECT_EQ(integrity_check(project_file), "ok");
}

}  // namespace
}  // namespace capfilt::core
