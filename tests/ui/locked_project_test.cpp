// A project whose write lock another connection holds (as a CapFilt job in a child process would):
// the studio shows a retrying message, keeps its event loop turning, and writes the queued
// decision once the lock is released. The event loop's longest stall is measured and bounded,
// while the lock is held and while pages are fetched.

#include <sqlite3.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cstdio>

#include "core/thumbnails.h"
#include "ui/browse/pair_table_model.h"
#include "ui/review/review_view.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui/shared/thumbnail_loader.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

// The longest gap between ticks of a 2 ms timer: how long the event loop was blocked.
class StallMeter {
 public:
  StallMeter() {
    clock_.start();
    timer_.setInterval(2);
    QObject::connect(&timer_, &QTimer::timeout, [this] {
      const qint64 now = clock_.elapsed();
      longest_ = std::max(longest_, now - last_);
      last_ = now;
    });
    timer_.start();
  }
  void reset() {
    last_ = clock_.elapsed();
    longest_ = 0;
  }
  qint64 longest() const { return longest_; }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ = 0;
  qint64 longest_ = 0;
};

class Writer {
 public:
  explicit Writer(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE; UPDATE images SET split = split WHERE id = 1",
                           nullptr, nullptr, nullptr), SQLITE_OK);
  }
  void release() {
    if (!db_) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }
  ~Writer() { release(); }

 private:
  sqlite3* db_ = nullptr;
};

TEST(LockedProject, RetriesWithoutFreezingAndLosesNothing) {
  const std::filesystem::path dir = test::scratch("locked");
  const std::string path = (dir / "p.capfilt").string();
  auto store = test::scratch_settings(dir);
  StudioSettings settings(store.get());
  settings.setCurator("dana");
  ProjectDocument::Options options;
  options.busy_timeout_ms = 50;
  options.retry_interval_ms = 100;
  auto doc = ProjectDocument::open(QString::fromStdString(path), "dana", true, options);
  ASSERT_TRUE(doc.is_ok());
  std::unique_ptr<ProjectDocument> document = std::move(doc.value());
  test::fill_project(document->project(), 2000, dir, false);
  core::ThumbnailCache cache(dir / "thumbs");
  ThumbnailLoader loader(&cache, 128, nullptr);
  ReviewView review(document.get(), &settings, &loader);
  PairTableModel table(document.get(), nullptr);
  review.show();
  QApplication::setActiveWindow(&review);
  ASSERT_TRUE(QTest::qWaitForWindowActive(&review));
  review.setFocus();
  QSignalSpy locked(document.get(), &ProjectDocument::lockChanged);

  StallMeter meter;
  Writer writer(path);
  meter.reset();
  QTest::keyClick(&review, Qt::Key_K);  // keep caption 1: waits for the lock
  ASSERT_EQ(locked.count(), 1);
  EXPECT_TRUE(locked.at(0).at(0).toBool());
  EXPECT_TRUE(locked.at(0).at(1).toString().contains("locked")) << locked.at(0).at(1).toString().toStdString();
  EXPECT_TRUE(document->hasPendingWrites());
  QTest::qWait(600);  // several retries against the held lock
  const qint64 stall_locked = meter.longest();

  meter.reset();
  QElapsedTimer page_clock;
  qint64 slowest_page = 0;
  for (int row : {1500, 3000, 3999}) {  // pages deep in the list, fetched while the lock is held
    const QModelIndex cell = table.index(row, PairTableModel::kCaption);
    table.data(cell, Qt::DisplayRole);
    page_clock.start();
    table.fetchPending();  // the page comes from the worker thread's connection
    ASSERT_TRUE(test::wait_until([&] { return table.data(cell, Qt::DisplayRole).toString() != "…"; }));
    slowest_page = std::max(slowest_page, page_clock.elapsed());
  }
  const qint64 stall_pages = meter.longest();
  EXPECT_TRUE(document->hasPendingWrites());
  EXPECT_EQ(document->project().pair(1)->decision, db::Decision::kUndecided);

  writer.release();
  EXPECT_TRUE(test::wait_until([&] { return !document->hasPendingWrites(); }, 3000));
  ASSERT_EQ(locked.count(), 2);
  EXPECT_FALSE(locked.at(1).at(0).toBool());
  EXPECT_EQ(document->project().pair(1)->decision, db::Decision::kKeep);
  auto log = document->project().decision_log();
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ(log->at(0).curator, "dana");

  std::printf("longest event-loop stall: %lld ms with the lock held, %lld ms while fetching pages "
              "(slowest page %lld ms)\n",
              static_cast<long long>(stall_locked), static_cast<long long>(stall_pages),
              static_cast<long long>(slowest_page));
  // One write attempt waits busy_timeout_ms (50) at most; the bound leaves room for a busy CI.
  EXPECT_LT(stall_locked, 250);
  EXPECT_LT(stall_pages, 250);
}

TEST(LockedProject, NotAProjectIsRefusedWithTheStoresMessage) {
  const std::filesystem::path dir = test::scratch("notaproject");
  const std::filesystem::path file = dir / "notes.capfilt";
  FILE* f = std::fopen(file.string().c_str(), "w");
  std::fputs("this is not a database, just some text that is long enough to look like a file\n", f);
  std::fclose(f);
  auto doc = ProjectDocument::open(QString::fromStdString(file.string()), "x", false);
  ASSERT_FALSE(doc.is_ok());
  EXPECT_FALSE(doc.status().message().empty());
  EXPECT_NE(doc.status().message().find("notes.capfilt"), std::string::npos) << doc.status().message();
}

TEST(LockedProject, AProjectFromANewerVersionIsRefusedAndLeftAlone) {
  const std::filesystem::path dir = test::scratch("newer");
  const std::string path = (dir / "p.capfilt").string();
  { ASSERT_TRUE(db::Project::open(path).is_ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string bump = "PRAGMA user_version = " + std::to_string(db::schema_version() + 1);
  ASSERT_EQ(sqlite3_exec(db, bump.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto doc = ProjectDocument::open(QString::fromStdString(path), "x", false);
  ASSERT_FALSE(doc.is_ok());
  EXPECT_EQ(doc.status().code(), Status::Code::kUnsupported) << doc.status().message();
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
