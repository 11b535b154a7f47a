// Several connections and processes on one project: a locked database waits then says so, a
// writer and a reader in two processes lose nothing, and a writer SIGKILLed mid-batch leaves a
// sound database with every committed decision.

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "db/db_test_support.h"

namespace capfilt::db {
namespace {

using test::FakeClock;
using test::image;
using test::ScratchDir;
using Clock_ = std::chrono::steady_clock;

// A project with `n` captions (ids 1..n) on n images, closed again so a fork() carries no
// open connection.
void seed(const std::string& path, int n) {
  FakeClock clock;
  auto project = test::open_or_die(path, &clock);
  ASSERT_TRUE(project);
  std::vector<ImageWithCaptions> batch;
  for (int k = 0; k < n; ++k)
    batch.push_back(image("img/" + std::to_string(k) + ".jpg", "train",
                          {{"caption " + std::to_string(k), CaptionSource::kWeb, 0}}));
  ASSERT_TRUE(project->insert_pairs(batch).is_ok());
}

// Another process's write transaction, held open until release().
class RawWriter {
 public:
  explicit RawWriter(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE; INSERT INTO images(path) VALUES ('held.jpg')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  void release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }
  ~RawWriter() { release(); }

 private:
  sqlite3* db_ = nullptr;
};

DecisionInput keep(int64_t caption) {
  return {caption, Decision::kKeep, DecisionOrigin::kCurator, "ann", ""};
}

TEST(Concurrency, ALockedProjectWaitsThenSaysSo) {
  ScratchDir dir;
  const std::string path = dir.file("p.capfilt");
  seed(path, 3);
  FakeClock clock;
  auto project = test::open_or_die(path, &clock, /*busy_timeout_ms=*/300);
  ASSERT_TRUE(project);
  RawWriter other(path);
  const auto start = Clock_::now();
  Status s = project->decide({keep(1)});
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock_::now() - start);
  EXPECT_EQ(s.code(), Status::Code::kBusy) << s.message();
  EXPECT_NE(s.message().find("locked by another process"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("300 ms"), std::string::npos) << s.message();
  EXPECT_GE(waited.count(), 250);
  // Readers are not blocked by the writer (WAL).
  auto page = project->page({});
  ASSERT_TRUE(page.is_ok()) << page.status().message();
  EXPECT_EQ(page->total, 3);
  other.release();
  EXPECT_TRUE(project->decide({keep(1)}).is_ok());
}

TEST(Concurrency, AWriterWaitsForAShortLock) {
  ScratchDir dir;
  const std::string path = dir.file("p.capfilt");
  seed(path, 3);
  FakeClock clock;
  auto project = test::open_or_die(path, &clock, /*busy_timeout_ms=*/5000);
  ASSERT_TRUE(project);
  RawWriter other(path);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    other.release();
  });
  Status s = project->decide({keep(2)});
  release.join();
  EXPECT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(project->pair(2)->decision, Decision::kKeep);
}

// Child process body: `rounds` decisions, in batches of `batch`, alternating keep and drop.
int write_decisions(const std::string& path, int captions, int rounds, int batch) {
  SystemClock clock;
  OpenOptions options;
  options.clock = &clock;
  auto project = Project::open(path, options);
  if (!project.is_ok()) {
    std::fprintf(stderr, "child: %s\n", project.status().message().c_str());
    return 2;
  }
  for (int done = 0; done < rounds; done += batch) {
    std::vector<DecisionInput> decisions;
    for (int k = done; k < done + batch && k < rounds; ++k)
      decisions.push_back({k % captions + 1, k % 2 ? Decision::kDrop : Decision::kKeep,
                           DecisionOrigin::kCurator, "writer", ""});
    Status s = project.value()->decide(decisions);
    if (!s) {
      std::fprintf(stderr, "child: %s\n", s.message().c_str());
      return 1;
    }
  }
  return 0;
}

TEST(Concurrency, OneProcessWritesWhileAnotherReadsPages) {
  ScratchDir dir;
  const std::string path = dir.file("p.capfilt");
  const int captions = 300, rounds = 1200;
  seed(path, captions);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(write_decisions(path, captions, rounds, /*batch=*/3));

  FakeClock clock;
  auto reader = test::open_or_die(path, &clock);
  ASSERT_TRUE(reader);
  int pages = 0, errors = 0;
  int64_t last_decided = 0;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    PageRequest request;
    request.filter.decisions = {Decision::kKeep, Decision::kDrop};
    request.sort = PairSort::kDecidedTime;
    request.descending = true;
    auto page = reader->page(request);
    auto counts = reader->decision_counts();
    if (!page.is_ok() || !counts.is_ok()) {
      ++errors;
      ADD_FAILURE() << (page.is_ok() ? counts.status() : page.status()).message();
      continue;
    }
    ++pages;
    const int64_t decided = counts->keep + counts->drop;
    EXPECT_GE(decided, last_decided);  // a reader never sees committed decisions vanish
    EXPECT_EQ(counts->undecided + decided, captions);
    last_decided = decided;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(errors, 0);
  EXPECT_GT(pages, 0);
  auto log = reader->decision_log();
  ASSERT_TRUE(log.is_ok());
  EXPECT_EQ(static_cast<int>(log->size()), rounds);  // no lost writes
  auto counts = reader->decision_counts();
  EXPECT_EQ(counts->keep + counts->drop, captions);
  EXPECT_TRUE(reader->check().is_ok());
}

// Child body for the crash test: endless batches of `batch` decisions; after each commit it
// writes the number of committed batches to `report_fd`.
[[noreturn]] void decide_until_killed(const std::string& path, int captions, int batch,
                                      int report_fd) {
  SystemClock clock;
  OpenOptions options;
  options.clock = &clock;
  auto project = Project::open(path, options);
  if (!project.is_ok()) ::_exit(2);
  for (int32_t committed = 1;; ++committed) {
    std::vector<DecisionInput> decisions;
    for (int k = 0; k < batch; ++k)
      decisions.push_back({(committed * batch + k) % captions + 1,
                           k % 2 ? Decision::kDrop : Decision::kKeep, DecisionOrigin::kAuto,
                           "crash", std::to_string(committed)});
    if (!project.value()->decide(decisions)) ::_exit(1);
    if (::write(report_fd, &committed, sizeof committed) != sizeof committed) ::_exit(3);
  }
}

TEST(Concurrency, AKillMidBatchLosesNoCommittedDecision) {
  ScratchDir dir;
  const std::string path = dir.file("p.capfilt");
  const int captions = 400, batch = 400;
  seed(path, captions);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    decide_until_killed(path, captions, batch, fds[1]);
  }
  ::close(fds[1]);
  int32_t committed = 0, n = 0;
  while (committed < 15 && ::read(fds[0], &n, sizeof n) == sizeof n) committed = n;
  // Let it start the next batch, then kill it inside the transaction most of the time.
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  while (::read(fds[0], &n, sizeof n) == sizeof n) committed = n;  // reports sent before the kill
  ::close(fds[0]);
  ASSERT_GE(committed, 15);

  FakeClock clock;
  auto project = test::open_or_die(path, &clock);
  ASSERT_TRUE(project);
  Status check = project->check();  // PRAGMA integrity_check + current decisions match the log
  EXPECT_TRUE(check.is_ok()) << check.message();
  auto log = project->decision_log();
  ASSERT_TRUE(log.is_ok());
  EXPECT_GE(static_cast<int64_t>(log->size()), int64_t{committed} * batch);
  EXPECT_EQ(log->size() % batch, 0u) << "a batch was half-written";
  // Every committed batch is there, whole.
  std::vector<int> per_batch(static_cast<size_t>(committed) + 2, 0);
  for (const auto& entry : *log) {
    const int b = std::stoi(entry.reason);
    if (b <= committed) ++per_batch[static_cast<size_t>(b)];
  }
  for (int b = 1; b <= committed; ++b) EXPECT_EQ(per_batch[static_cast<size_t>(b)], batch) << b;
}

// An import killed between and inside its batches: whole batches only, and a rerun completes it.
TEST(Concurrency, AKillMidImportLeavesWholeBatchesAndARerunCompletes) {
  ScratchDir dir;
  const std::string path = dir.file("p.capfilt");
  seed(path, 0);
  const int batch = 500, batches = 40;
  auto make_batch = [&](int b) {
    std::vector<ImageWithCaptions> items;
    for (int k = 0; k < batch; ++k) {
      const std::string name = std::to_string(b * batch + k);
      items.push_back(image("x/" + name + ".jpg", "", {{"pair " + name, CaptionSource::kWeb, 0}}));
    }
    return items;
  };
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    auto project = Project::open(path);
    if (!project.is_ok()) ::_exit(2);
    for (int32_t b = 0; b < batches; ++b) {
      if (!project.value()->insert_pairs(make_batch(b)).is_ok()) ::_exit(1);
      if (::write(fds[1], &b, sizeof b) != sizeof b) ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  int32_t n = -1;
  ASSERT_EQ(::read(fds[0], &n, sizeof n), static_cast<ssize_t>(sizeof n));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(fds[0]);

  FakeClock clock;
  auto project = test::open_or_die(path, &clock);
  ASSERT_TRUE(project);
  EXPECT_TRUE(project->check().is_ok());
  const int64_t before = project->page({}).value().total;
  EXPECT_EQ(before % batch, 0) << "a batch was half-written";
  EXPECT_GE(before, batch);
  InsertCounts rerun;
  for (int b = 0; b < batches; ++b) rerun += project->insert_pairs(make_batch(b)).value();
  EXPECT_EQ(rerun.captions_skipped, before);
  EXPECT_EQ(rerun.captions_added, int64_t{batch} * batches - before);
  EXPECT_EQ(project->page({}).value().total, int64_t{batch} * batches);
}

}  // namespace
}  // namespace capfilt::db
