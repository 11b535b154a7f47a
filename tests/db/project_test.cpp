// Opening a project, idempotent batch import, import runs, the export walk, models and jobs.

#include <fstream>

#include "db/db_test_support.h"

namespace capfilt::db {
namespace {

using test::FakeClock;
using test::image;
using test::ScratchDir;

class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override { project_ = test::open_or_die(dir_.file("p.capfilt"), &clock_); }

  std::vector<ImageWithCaptions> two_images() {
    return {image("a/1.jpg", "train",
                  {{"a red circle", CaptionSource::kWeb, 0},
                   {"a small red circle", CaptionSource::kHuman, 0}}),
            image("a/2.jpg", "val", {{"a blue square", CaptionSource::kWeb, 0}})};
  }

  ScratchDir dir_;
  FakeClock clock_;
  std::unique_ptr<Project> project_;
};

TEST_F(ProjectTest, MissingFileIsNotFoundWithoutCreate) {
  OpenOptions options;
  options.create_if_missing = false;
  auto missing = Project::open(dir_.file("nope.capfilt"), options);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.capfilt"), std::string::npos);
}

TEST_F(ProjectTest, UsesWalAndForeignKeysAndTheCurrentSchema) {
  auto again = test::open_or_die(dir_.file("p.capfilt"), &clock_);
  ASSERT_TRUE(again);
  EXPECT_TRUE(std::filesystem::exists(dir_.file("p.capfilt-wal")));
  // A caption that names no image is refused by the foreign key, through the public API too.
  Status s = project_->decide({{12345, Decision::kKeep, DecisionOrigin::kCurator, "ann", ""}});
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.message();
  EXPECT_GE(schema_version(), 4);
}

TEST_F(ProjectTest, AFileThatIsNotAProjectIsCorrupt) {
  std::ofstream(dir_.file("junk.capfilt")) << "this is not a database, just some text......"
                                              "..................................................";
  auto junk = Project::open(dir_.file("junk.capfilt"));
  ASSERT_FALSE(junk.is_ok());
  EXPECT_EQ(junk.status().code(), Status::Code::kCorrupt) << junk.status().message();
}

TEST_F(ProjectTest, BatchInsertCountsAddedAndSkipped) {
  auto first = project_->insert_pairs(two_images());
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  EXPECT_EQ(first->images_added, 2);
  EXPECT_EQ(first->captions_added, 3);
  EXPECT_EQ(first->images_skipped, 0);
  EXPECT_EQ(first->captions_skipped, 0);
}

TEST_F(ProjectTest, ReimportingAddsNothingTwice) {
  ASSERT_TRUE(project_->insert_pairs(two_images()).is_ok());
  auto again = project_->insert_pairs(two_images());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->images_added, 0);
  EXPECT_EQ(again->images_skipped, 2);
  EXPECT_EQ(again->captions_added, 0);
  EXPECT_EQ(again->captions_skipped, 3);
  auto counts = project_->decision_counts();
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts->undecided, 3);
}

TEST_F(ProjectTest, SameTextFromAnotherSourceIsANewCaption) {
  ASSERT_TRUE(project_->insert_pairs(two_images()).is_ok());
  auto more = project_->insert_pairs(
      {image("a/1.jpg", "train",
             {{"a red circle", CaptionSource::kSynthetic, 0},  // new: other source
              {"a red circle", CaptionSource::kWeb, 0}}),      // duplicate
       image("a/3.jpg", "test",
             {{"x", CaptionSource::kWeb, 0}, {"x", CaptionSource::kWeb, 0}})});  // dup in batch
  ASSERT_TRUE(more.is_ok());
  EXPECT_EQ(more->images_added, 1);
  EXPECT_EQ(more->images_skipped, 1);
  EXPECT_EQ(more->captions_added, 2);
  EXPECT_EQ(more->captions_skipped, 2);
}

TEST_F(ProjectTest, AFailingBatchWritesNothing) {
  // The second caption names a model that does not exist: the foreign key fails the batch.
  auto bad = project_->insert_pairs(
      {image("b/1.jpg", "", {{"fine", CaptionSource::kWeb, 0}}),
       image("b/2.jpg", "", {{"by a ghost model", CaptionSource::kSynthetic, 99}})});
  ASSERT_FALSE(bad.is_ok());
  Page page = project_->page({}).value();
  EXPECT_EQ(page.total, 0);
}

TEST_F(ProjectTest, ImportRunsAreRecorded) {
  auto id = project_->begin_import("/data/coco.json", "coco");
  ASSERT_TRUE(id.is_ok());
  clock_.advance(2500);
  InsertCounts counts{2, 0, 3, 1};
  ASSERT_TRUE(project_->finish_import(id.value(), "completed", counts, 1, "x.json:3: bad").is_ok());
  EXPECT_EQ(project_->finish_import(999, "completed", counts, 0, "").code(),
            Status::Code::kNotFound);
  auto runs = project_->import_runs();
  ASSERT_TRUE(runs.is_ok());
  ASSERT_EQ(runs->size(), 1u);
  const ImportRun& run = runs->front();
  EXPECT_EQ(run.format, "coco");
  EXPECT_EQ(run.status, "completed");
  EXPECT_EQ(run.counts.captions_added, 3);
  EXPECT_EQ(run.counts.captions_skipped, 1);
  EXPECT_EQ(run.records_rejected, 1);
  EXPECT_EQ(run.report, "x.json:3: bad");
  EXPECT_EQ(run.finished_ms - run.started_ms, 2500);
}

TEST_F(ProjectTest, ExportWalkFiltersByDecisionAndSource) {
  ASSERT_TRUE(project_->insert_pairs(two_images()).is_ok());
  // Caption ids follow insertion: 1 red circle (web), 2 small red circle (human), 3 blue square.
  ASSERT_TRUE(project_->decide({{1, Decision::kKeep, DecisionOrigin::kAuto, "filter", ""},
                                {3, Decision::kDrop, DecisionOrigin::kAuto, "filter", ""}})
                  .is_ok());
  PairFilter kept_web;
  kept_web.decisions = {Decision::kKeep};
  kept_web.sources = {CaptionSource::kWeb};
  std::vector<std::string> seen;
  ASSERT_TRUE(project_->for_each_pair(kept_web, [&](const PairRow& r) {
    seen.push_back(r.image.path + ":" + r.caption.text);
    EXPECT_EQ(r.image.width, 640);
    EXPECT_EQ(r.image.split, "train");
    return Status::ok();
  }).is_ok());
  EXPECT_EQ(seen, std::vector<std::string>({"a/1.jpg:a red circle"}));

  PairFilter all;
  int visited = 0;
  Status stop = project_->for_each_pair(all, [&](const PairRow&) {
    ++visited;
    return Status::cancelled("enough");
  });
  EXPECT_EQ(stop.code(), Status::Code::kCancelled);
  EXPECT_EQ(visited, 1);
}

TEST_F(ProjectTest, ModelsKeepTheirLineage) {
  ModelRecord base;
  base.name = "blip-base";
  base.checkpoint_path = "models/base.safetensors";
  base.task = "pretrain";
  auto base_id = project_->add_model(base);
  ASSERT_TRUE(base_id.is_ok());
  ModelRecord filter = base;
  filter.name = "filter";
  filter.task = "filter";
  filter.parent_id = base_id.value();
  auto filter_id = project_->add_model(filter);
  ASSERT_TRUE(filter_id.is_ok());
  ASSERT_TRUE(project_->update_model_metrics(filter_id.value(), R"({"itm_acc":0.9})").is_ok());
  auto got = project_->model(filter_id.value());
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->parent_id, base_id.value());
  EXPECT_EQ(got->metrics_json, R"({"itm_acc":0.9})");
  EXPECT_EQ(got->created_ms, clock_.now_ms());
  EXPECT_EQ(project_->models()->size(), 2u);
  EXPECT_EQ(project_->model(77).status().code(), Status::Code::kNotFound);
  ModelRecord orphan = base;
  orphan.parent_id = 77;
  EXPECT_FALSE(project_->add_model(orphan).is_ok());
}

TEST_F(ProjectTest, JobsRecordTheirLifeAndMetrics) {
  JobRecord job;
  job.kind = "train";
  job.args_json = R"({"epochs":1})";
  auto id = project_->add_job(job);
  ASSERT_TRUE(id.is_ok());
  clock_.advance(1000);
  ASSERT_TRUE(project_->update_job(id.value(), JobStatus::kRunning, 4242, 0.1).is_ok());
  ASSERT_TRUE(project_->set_job_log_path(id.value(), "logs/1.log").is_ok());
  ASSERT_TRUE(project_->add_job_metrics(id.value(), {{1, "loss", 2.5}, {1, "lr", 1e-4},
                                                     {2, "loss", 2.0}})
                  .is_ok());
  clock_.advance(5000);
  ASSERT_TRUE(project_->update_job(id.value(), JobStatus::kFailed, 0, 0.4, "out of memory").is_ok());
  auto got = project_->job(id.value());
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->status, JobStatus::kFailed);
  EXPECT_EQ(got->error, "out of memory");
  EXPECT_EQ(got->log_path, "logs/1.log");
  EXPECT_EQ(got->started_ms - got->created_ms, 1000);
  EXPECT_EQ(got->finished_ms - got->started_ms, 5000);
  auto loss = project_->job_metrics(id.value(), "loss");
  ASSERT_TRUE(loss.is_ok());
  ASSERT_EQ(loss->size(), 2u);
  EXPECT_EQ((*loss)[1].step, 2);
  EXPECT_DOUBLE_EQ((*loss)[1].value, 2.0);
  EXPECT_EQ(project_->job_metrics(id.value())->size(), 3u);
  EXPECT_EQ(project_->add_job_metrics(99, {{1, "loss", 1}}).code(), Status::Code::kNotFound);
  EXPECT_EQ(project_->update_job(99, JobStatus::kRunning, 1, 0).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace capfilt::db
