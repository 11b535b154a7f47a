// Schema versions: migrating an old file keeps its data; a newer file is refused, untouched.

#include <sqlite3.h>

#include <fstream>
#include <iterator>

#include "db/db_test_support.h"
#include "db/schema.h"

namespace capfilt::db {
namespace {

using test::FakeClock;
using test::ScratchDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs SQL on a raw connection, as another program (or an older capfilt) would.
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// A file as the first released schema wrote it, with one image, caption and decision.
void write_version_1(const std::string& path) {
  raw_exec(path, internal::migrations()[0] +
                     "PRAGMA user_version = 1;"
                     "INSERT INTO images(path) VALUES ('old/1.jpg');"
                     "INSERT INTO captions(image_id, text, source, decision, decided_ms) "
                     "VALUES (1, 'an old red circle', 'web', 'keep', 5);"
                     "INSERT INTO decisions(caption_id, decision, origin, curator, time_ms) "
                     "VALUES (1, 'keep', 'curator', 'ann', 5);"
                     "INSERT INTO models(name, created_ms) VALUES ('filter', 5);"
                     "INSERT INTO scores(caption_id, model_id, itm, itc) VALUES (1, 1, 0.75, 0.3);");
}

TEST(Migration, UpgradesAnOldFileAndKeepsItsData) {
  ScratchDir dir;
  const std::string path = dir.file("old.capfilt");
  write_version_1(path);
  FakeClock clock;
  auto project = test::open_or_die(path, &clock);
  ASSERT_TRUE(project);
  PageRequest request;
  request.filter.text_query = "red";  // full-text search arrived in a later migration
  auto page = project->page(request);
  ASSERT_TRUE(page.is_ok()) << page.status().message();
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->rows[0].caption.text, "an old red circle");
  EXPECT_EQ(page->rows[0].decision, Decision::kKeep);
  EXPECT_TRUE(project->add_job({}).is_ok());  // jobs arrived in a later migration too
  auto histograms = project->itm_histogram(4);  // scores learnt their caption's source later
  ASSERT_TRUE(histograms.is_ok()) << histograms.status().message();
  ASSERT_EQ(histograms->size(), 1u);
  EXPECT_EQ((*histograms)[0].source, CaptionSource::kWeb);
  EXPECT_EQ((*histograms)[0].counts, std::vector<int64_t>({0, 0, 0, 1}));
  EXPECT_TRUE(project->check().is_ok());
  project.reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), schema_version());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Version 7 copies each caption's decision onto its scores and counts captions and scores; the
// copies and counts of a file made before it must match its data, and stay right afterwards.
TEST(Migration, Version7CountsWhatAVersion6FileHolds) {
  ScratchDir dir;
  const std::string path = dir.file("v6.capfilt");
  std::string v6;
  for (int k = 0; k < 6; ++k) v6 += internal::migrations()[static_cast<size_t>(k)];
  raw_exec(path, v6 +
                     "PRAGMA user_version = 6;"
                     "INSERT INTO images(path, split) VALUES ('a.jpg', 'val'), ('b.jpg', 'train');"
                     "INSERT INTO captions(image_id, text, source, decision, decided_ms) VALUES "
                     "(1, 'a web caption', 'web', 'keep', 5), (1, 'a synthetic one', 'synthetic', "
                     "'undecided', 0), (2, 'another web caption', 'web', 'drop', 6);"
                     "INSERT INTO decisions(caption_id, decision, origin, curator, time_ms) VALUES "
                     "(1, 'keep', 'curator', 'ann', 5), (3, 'drop', 'auto', 'filter', 6);"
                     "INSERT INTO models(name, created_ms) VALUES ('filter', 5);"
                     "INSERT INTO scores(caption_id, model_id, itm, itc, source) VALUES "
                     "(1, 1, 0.9, 0.3, 'web'), (2, 1, 0.2, 0.1, 'synthetic'), (3, 1, 1.0, 0.2, 'web');");
  FakeClock clock;
  auto project = test::open_or_die(path, &clock);
  ASSERT_TRUE(project);
  EXPECT_TRUE(project->check().is_ok()) << project->check().message();
  auto counts = project->decision_counts().value();
  EXPECT_EQ(counts.keep, 1);
  EXPECT_EQ(counts.drop, 1);
  EXPECT_EQ(counts.undecided, 1);
  auto histograms = project->itm_histogram(10).value();
  ASSERT_EQ(histograms.size(), 2u);
  EXPECT_EQ(histograms[0].counts, std::vector<int64_t>({0, 0, 0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(histograms[1].counts, std::vector<int64_t>({0, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
  PageRequest web_kept;
  web_kept.filter.sources = {CaptionSource::kWeb};
  web_kept.filter.decisions = {Decision::kKeep};
  web_kept.sort = PairSort::kItm;
  EXPECT_EQ(test::ids(project->page(web_kept).value()), std::vector<int64_t>({1}));
  ASSERT_TRUE(project->decide({{3, Decision::kKeep, DecisionOrigin::kCurator, "ann", ""}}).is_ok());
  EXPECT_EQ(test::ids(project->page(web_kept).value()), std::vector<int64_t>({1, 3}));
  EXPECT_EQ(project->count(web_kept).value(), 2);
  EXPECT_TRUE(project->check().is_ok()) << project->check().message();
}

TEST(Migration, ANewFileGetsEveryMigration) {
  ScratchDir dir;
  FakeClock clock;
  auto project = test::open_or_die(dir.file("new.capfilt"), &clock);
  ASSERT_TRUE(project);
  // Opening again is a no-op, not a second migration (which would fail on existing tables).
  project.reset();
  EXPECT_TRUE(test::open_or_die(dir.file("new.capfilt"), &clock) != nullptr);
}

// Version 10 gives every project an id that its copies share (CapFilt results files name it).
TEST(Migration, Version10GivesEachProjectAnIdThatCopiesShare) {
  ScratchDir dir;
  const std::string old_path = dir.file("old.capfilt");
  write_version_1(old_path);
  FakeClock clock;
  auto old_project = test::open_or_die(old_path, &clock);
  auto fresh = test::open_or_die(dir.file("fresh.capfilt"), &clock);
  ASSERT_TRUE(old_project && fresh);
  const std::string id = old_project->uuid().value();
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_NE(id, fresh->uuid().value());
  EXPECT_EQ(id, old_project->uuid().value()) << "made once, not per call";
  old_project.reset();
  std::ofstream(dir.file("copy.capfilt"), std::ios::binary) << read_bytes(old_path);
  EXPECT_EQ(test::open_or_die(dir.file("copy.capfilt"), &clock)->uuid().value(), id);
}

// A read-only open writes nothing: an older file is refused rather than migrated.
TEST(Migration, AReadOnlyOpenRefusesAnOlderFileAndWritesNothing) {
  ScratchDir dir;
  const std::string path = dir.file("old.capfilt");
  write_version_1(path);
  const std::string before = read_bytes(path);
  OpenOptions read_only;
  read_only.read_only = true;
  auto refused = Project::open(path, read_only);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(refused.status().message().find("read-only"), std::string::npos);
  EXPECT_EQ(read_bytes(path), before);

  FakeClock clock;
  test::open_or_die(path, &clock).reset();  // migrated where it is kept
  auto opened = Project::open(path, read_only);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  EXPECT_EQ(opened.value()->page({}).value().total, 1);
  EXPECT_FALSE(
      opened.value()->decide({{1, Decision::kDrop, DecisionOrigin::kCurator, "ann", ""}}).is_ok());
}

TEST(Migration, RefusesANewerFileWithoutModifyingIt) {
  ScratchDir dir;
  const std::string path = dir.file("future.capfilt");
  write_version_1(path);
  const int future = schema_version() + 3;
  raw_exec(path, "PRAGMA user_version = " + std::to_string(future));
  const std::string before = read_bytes(path);
  ASSERT_FALSE(before.empty());

  auto refused = Project::open(path);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnsupported);
  const std::string& message = refused.status().message();
  EXPECT_NE(message.find("version " + std::to_string(future)), std::string::npos) << message;
  EXPECT_NE(message.find("up to version " + std::to_string(schema_version())), std::string::npos)
      << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal") &&
               std::filesystem::file_size(path + "-wal") > 0);
}

TEST(Migration, RefusesAForeignSqliteDatabase) {
  ScratchDir dir;
  const std::string path = dir.file("other.db");
  raw_exec(path, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES ('mine');");
  const std::string before = read_bytes(path);
  auto refused = Project::open(path);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(refused.status().message().find("not a capfilt project"), std::string::npos);
  EXPECT_EQ(read_bytes(path), before);
}

}  // namespace
}  // namespace capfilt::db
