// CapFilt across machines: shards run over copies of a project into results files of their own,
// merged into the project afterwards (db/capfilt_results.h, core/capfilt_shard.h). Two shard
// files merged equal an unsharded run and merging twice changes nothing; a run killed with SIGKILL
// leaves a file that is refused until the same run finishes it; files of another project, made
// with other models, truncated or overwritten are refused with nothing written.

#include "db/capfilt_results.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/capfilt_shard.h"
#include "engine/capfilt_fixture.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

using test_support::CapfiltFixture;
using test_support::kVocab;
using test_support::Snapshot;

class CapfiltResultsTest : public CapfiltFixture {
 protected:
  static void SetUpTestSuite() { make_data_and_model("capfilt-results"); }

  static std::string project_path(const std::string& name) {
    return root_ + "/" + name + ".capfilt";
  }
  static std::string results_path(const std::string& name) {
    return root_ + "/" + name + ".capfilt-results";
  }

  // A copy of project `from` as another machine would get it (the project closed, so the file
  // alone holds it).
  static void copy_project(const std::string& from, const std::string& to) {
    fs::copy_file(project_path(from), project_path(to), fs::copy_options::overwrite_existing);
  }

  // Runs shard I/N of CapFilt over project `copy` (opened read-only) into results file `name`.
  static Result<CapfiltReport> run_shard(const std::string& copy, const std::string& name,
                                         int shard_index, int shard_count, int batch = 4,
                                         int64_t max_images = 0) {
    db::OpenOptions read_only;
    read_only.read_only = true;
    auto project = db::Project::open(project_path(copy), read_only);
    if (!project) return project.status();
    auto e = engine();
    CapfiltModels m;
    m.captioner = m.filter = e.get();
    CapfiltRunOptions o = options();
    o.batch_images = batch;
    o.shard_index = shard_index;
    o.shard_count = shard_count;
    o.max_images = max_images;
    auto header = results_header(*project.value(), m, o);
    if (!header) return header.status();
    auto file = db::CapfiltResultsFile::open_for_run(results_path(name), header.value());
    if (!file) return file.status();
    o.results = file.value().get();
    return run_capfilt(*project.value(), m, o);
  }

  static Result<db::CapfiltMerge> merge(db::Project& project, const std::string& name) {
    auto file = db::CapfiltResultsFile::open_for_merge(results_path(name));
    if (!file) return file.status();
    return project.merge_capfilt_results(*file.value());
  }

  // The reference: CapFilt run on the project itself, unsharded, one image a batch (see
  // kComparedBatch).
  Snapshot unsharded(const std::string& name) {
    auto project = make_project(name);
    auto e = engine();
    const CapfiltModels m = models(*project, *e);
    CapfiltRunOptions o = options();
    o.batch_images = kComparedBatch;
    EXPECT_TRUE(run_capfilt(*project, m, o).is_ok());
    return snapshot(*project, m.filter_id);
  }

  static int64_t images_in_file(const std::string& name) {
    sqlite3* db = nullptr;
    int64_t n = -1;
    if (sqlite3_open_v2(results_path(name).c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
      sqlite3_busy_timeout(db, 1000);
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT count(*) FROM images", -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        n = sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db);
    return n;
  }
};

TEST_F(CapfiltResultsTest, TwoShardFilesMergedEqualAnUnshardedRunAndMergingTwiceChangesNothing) {
  make_project("origin").reset();
  copy_project("origin", "machine-a");
  copy_project("origin", "machine-b");
  const auto copy_before = fs::file_size(project_path("machine-a"));
  for (int shard = 0; shard < 2; ++shard) {
    auto report = run_shard(shard == 0 ? "machine-a" : "machine-b", "shard" + std::to_string(shard),
                            shard, 2, kComparedBatch);
    ASSERT_TRUE(report.is_ok()) << report.status().message();
    EXPECT_GT(report->images_processed, 0);
    EXPECT_TRUE(report->failures.empty());
  }
  EXPECT_EQ(fs::file_size(project_path("machine-a")), copy_before) << "the copy is only read";

  auto project = db::Project::open(project_path("origin")).value();
  int64_t images = 0;
  for (const char* name : {"shard0", "shard1"}) {
    auto merged = merge(*project, name);
    ASSERT_TRUE(merged.is_ok()) << merged.status().message();
    images += merged->images;
    EXPECT_GT(merged->counts.decisions_written, 0);
  }
  auto models = project->models().value();
  ASSERT_EQ(models.size(), 1u) << "the one model, registered once by the first merge";
  const Snapshot merged = snapshot(*project, models[0].id);
  EXPECT_EQ(static_cast<int64_t>(merged.size()), images);
  const Snapshot reference = unsharded("reference");
  expect_same(merged, reference);
  EXPECT_TRUE(project->check().is_ok());

  // Merging both files again changes nothing: no caption, decision or model is added.
  const auto log = project->decision_log().value();
  for (const char* name : {"shard0", "shard1"}) {
    auto again = merge(*project, name);
    ASSERT_TRUE(again.is_ok()) << again.status().message();
    EXPECT_EQ(again->counts.captions_added, 0);
    EXPECT_EQ(again->counts.decisions_written, 0);
    EXPECT_EQ(again->models_registered, 0);
  }
  expect_same(snapshot(*project, models[0].id), merged);
  EXPECT_EQ(project->decision_log()->size(), log.size());
  EXPECT_EQ(project->models()->size(), 1u);
}

TEST_F(CapfiltResultsTest, ACuratorsDecisionSurvivesAMerge) {
  make_project("curated").reset();
  copy_project("curated", "curated-copy");
  ASSERT_TRUE(run_shard("curated-copy", "all", 0, 1).is_ok());
  auto project = db::Project::open(project_path("curated")).value();
  db::PageRequest request;
  request.filter.sources = {db::CaptionSource::kWeb};
  request.limit = 1;
  const db::PairRow chosen = project->page(request)->rows.at(0);
  ASSERT_TRUE(project
                  ->decide({{chosen.caption_id, db::Decision::kKeep, db::DecisionOrigin::kCurator,
                             "ada", "looked at it"}})
                  .is_ok());
  auto merged = merge(*project, "all");
  ASSERT_TRUE(merged.is_ok()) << merged.status().message();
  EXPECT_EQ(merged->counts.kept_by_curator, 1);
  EXPECT_EQ(project->pair(chosen.caption_id)->decision, db::Decision::kKeep);
  auto log = project->decision_log(chosen.caption_id).value();
  ASSERT_EQ(log.size(), 1u) << "no automatic decision over the curator's";
  EXPECT_EQ(log[0].origin, db::DecisionOrigin::kCurator);
}

TEST_F(CapfiltResultsTest, AKilledShardIsRefusedUntilTheSameRunFinishesIt) {
  make_project("killed").reset();
  copy_project("killed", "killed-copy");
  const pid_t child = fork();
  if (child == 0) _exit(run_shard("killed-copy", "killed", 0, 1, kComparedBatch).is_ok() ? 0 : 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (images_in_file("killed") <= 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";

  auto project = db::Project::open(project_path("killed")).value();
  auto half = merge(*project, "killed");
  ASSERT_FALSE(half.is_ok());
  EXPECT_EQ(half.status().code(), Status::Code::kInvalid);
  EXPECT_NE(half.status().message().find("unfinished"), std::string::npos)
      << half.status().message();
  EXPECT_TRUE(project->decision_log()->empty());

  auto resumed = run_shard("killed-copy", "killed", 0, 1, kComparedBatch);
  ASSERT_TRUE(resumed.is_ok()) << resumed.status().message();
  EXPECT_GT(resumed->images_already_done, 0);
  EXPECT_LT(resumed->images_processed, resumed->images_in_scope);
  ASSERT_TRUE(merge(*project, "killed").is_ok());
  expect_same(snapshot(*project, project->models()->at(0).id), unsharded("killed-reference"));

  // A run with other options cannot continue that file.
  auto other = run_shard("killed-copy", "killed", 1, 2);
  ASSERT_FALSE(other.is_ok());
  EXPECT_NE(other.status().message().find("another file"), std::string::npos)
      << other.status().message();
}

TEST_F(CapfiltResultsTest, AShardCutShortByMaxImagesStaysUnfinished) {
  make_project("cut-short").reset();
  copy_project("cut-short", "cut-short-copy");
  auto part = run_shard("cut-short-copy", "cut-short", 0, 2, 2, 2);
  ASSERT_TRUE(part.is_ok()) << part.status().message();
  EXPECT_EQ(part->images_processed, 2);
  auto project = db::Project::open(project_path("cut-short")).value();
  auto refused = merge(*project, "cut-short");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("unfinished"), std::string::npos)
      << refused.status().message();
  ASSERT_TRUE(run_shard("cut-short-copy", "cut-short", 0, 2, 2).is_ok());
  auto merged = merge(*project, "cut-short");
  ASSERT_TRUE(merged.is_ok()) << merged.status().message();
  EXPECT_GT(merged->images, 2);
}

TEST_F(CapfiltResultsTest, AFileOfAnotherProjectIsRefused) {
  make_project("mine").reset();
  copy_project("mine", "mine-copy");
  ASSERT_TRUE(run_shard("mine-copy", "mine", 0, 4).is_ok());
  auto other = make_project("theirs");  // the same images, but another project
  auto refused = merge(*other, "mine");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalid);
  EXPECT_NE(refused.status().message().find("another project"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(other->decision_log()->empty());
  EXPECT_TRUE(other->models()->empty());
}

TEST_F(CapfiltResultsTest, AFileMadeWithOtherModelsThanTheProjectsIsRefused) {
  make_project("models").reset();
  copy_project("models", "models-copy");
  copy_project("models", "models-path");
  {  // The copy registers the tiny model as #1 before its shard runs ...
    auto copy = db::Project::open(project_path("models-copy")).value();
    ASSERT_EQ(models(*copy, *engine()).captioner_id, 1);
  }
  ASSERT_TRUE(run_shard("models-copy", "models", 0, 4).is_ok());
  // ... while the project registered another model as #1 meanwhile.
  auto project = db::Project::open(project_path("models")).value();
  torch::manual_seed(3);
  model::save_checkpoint(model::Blip(model::preset("tiny")), root_ + "/another-model");
  auto another = BlipEngine::open({root_ + "/another-model", kVocab, "cpu"}).value();
  ASSERT_EQ(register_model(*project, another->info(), "captioner").value(), 1);

  auto refused = merge(*project, "models");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalid);
  EXPECT_NE(refused.status().message().find("another captioner"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(project->decision_log()->empty());
  EXPECT_EQ(project->models()->size(), 1u);

  // A copy of the project where the model's path names a model of another configuration.
  auto same_path = db::Project::open(project_path("models-path")).value();
  auto record = model_record(engine()->info(), "captioner");
  record.config_json = "{\"not\": \"the same\"}";
  ASSERT_EQ(same_path->add_model(record).value(), 1);
  auto refused_too = merge(*same_path, "models");
  ASSERT_FALSE(refused_too.is_ok());
  EXPECT_NE(refused_too.status().message().find("another captioner"), std::string::npos)
      << refused_too.status().message();
  EXPECT_TRUE(same_path->decision_log()->empty());
}

TEST_F(CapfiltResultsTest, TruncatedOverwrittenAndForeignFilesAreRefused) {
  make_project("target").reset();
  copy_project("target", "target-copy");
  ASSERT_TRUE(run_shard("target-copy", "good", 0, 1).is_ok());
  ASSERT_TRUE(db::CapfiltResultsFile::open_for_merge(results_path("good")).is_ok());
  const auto size = fs::file_size(results_path("good"));
  ASSERT_GT(size, 8192u);

  fs::copy_file(results_path("good"), results_path("truncated"));
  fs::resize_file(results_path("truncated"), size / 2);
  fs::copy_file(results_path("good"), results_path("overwritten"));
  {
    std::fstream f(results_path("overwritten"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  // Rows cut out by another program: a sound SQLite file whose rows disagree with its counts.
  fs::copy_file(results_path("good"), results_path("cut"));
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(results_path("cut").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM scores WHERE image = 3", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::ofstream(results_path("text")) << "{\"not\": \"a results file\"}\n";
  fs::copy_file(project_path("target"), results_path("project"));

  auto project = db::Project::open(project_path("target")).value();
  for (const char* name : {"truncated", "overwritten", "cut", "text", "project", "missing"}) {
    auto refused = merge(*project, name);
    ASSERT_FALSE(refused.is_ok()) << name;
    EXPECT_NE(refused.status().message().find(results_path(name)), std::string::npos)
        << name << ": " << refused.status().message();
    if (std::string(name) == "cut") {
      EXPECT_NE(refused.status().message().find("rows of scores"), std::string::npos)
          << refused.status().message();
    }
  }
  EXPECT_TRUE(project->decision_log()->empty());
  EXPECT_TRUE(project->models()->empty());
  EXPECT_TRUE(project->check().is_ok());
  EXPECT_TRUE(merge(*project, "good").is_ok()) << "the good file still merges";
}

}  // namespace
}  // namespace capfilt::core
