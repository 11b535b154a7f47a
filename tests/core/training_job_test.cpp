// Training jobs on the tiny model with reduced image size: exact resume, stopping by signal,
// metrics and models in the project, each task's losses falling, and bad input.

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/train_test_support.h"
#include "core/importer.h"
#include "core/training_job.h"
#include "db/project.h"
#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

class TrainingJobTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = train_test::scratch_with_demo_data(); }

  TrainJobConfig tiny(TrainTask task, int64_t steps) const {
    TrainJobConfig c;
    c.task = task;
    c.preset = "tiny";
    c.image_size = 32;
    c.queue_size = 16;
    c.steps = steps;
    c.batch_size = 4;
    c.lr = 1e-3;
    c.warmup_steps = 1;
    c.seed = 3;
    c.workers = 2;
    c.data.annotation_files = {(root_ / "data" / "human_train.json").string()};
    if (task == TrainTask::kVqa) c.data.annotation_files = {(root_ / "data" / "vqa_train.json").string()};
    return c;
  }

  TrainJobContext context(const std::string& name) const {
    TrainJobContext ctx;
    ctx.job_dir = (root_ / name).string();
    ctx.default_vocab = std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
    return ctx;
  }

  fs::path root_;
};

TEST_F(TrainingJobTest, StoppedAndResumedEqualsUninterrupted) {
  TrainJobConfig c = tiny(TrainTask::kPretrain, 6);  // 16 pairs / batch 4: crosses an epoch
  auto whole = run_training_job(c, context("whole"));
  ASSERT_TRUE(whole) << whole.status().message();
  EXPECT_EQ(whole->status, "succeeded");
  EXPECT_EQ(whole->steps_done, 6);

  TrainJobContext first = context("parts");
  int steps_seen = 0;
  first.on_event = [&](const ProgressEvent& e) {
    if (e.kind == ProgressEventKind::kProgress) ++steps_seen;
  };
  first.should_stop = [&] { return steps_seen >= 3; };
  auto part = run_training_job(c, first);
  ASSERT_TRUE(part) << part.status().message();
  EXPECT_EQ(part->status, "cancelled");
  EXPECT_EQ(part->steps_done, 3);
  EXPECT_TRUE(fs::exists(fs::path(part->checkpoint) / "training_state.safetensors"));

  TrainJobContext second = context("parts");
  second.resume = true;
  auto rest = run_training_job(c, second);
  ASSERT_TRUE(rest) << rest.status().message();
  EXPECT_EQ(rest->status, "succeeded");
  EXPECT_EQ(rest->steps_done, 6);

  auto diff = max_checkpoint_difference(newest_checkpoint((root_ / "whole").string()),
                                        newest_checkpoint((root_ / "parts").string()),
                                        /*with_state=*/true);
  ASSERT_TRUE(diff) << diff.status().message();
  EXPECT_LE(*diff, 1e-6);
  // Different seeds give different weights: the comparison can tell.
  TrainJobConfig other = c;
  other.seed = 4;
  other.steps = 1;
  ASSERT_TRUE(run_training_job(other, context("other")));
  auto apart = max_checkpoint_difference(newest_checkpoint((root_ / "whole").string()),
                                         newest_checkpoint((root_ / "other").string()), false);
  ASSERT_TRUE(apart);
  EXPECT_GT(*apart, 1e-3);
}

// The rewritten captions are drawn from the seed and the step: a stopped filter job resumes to the
// weights of an uninterrupted one, and the extra negatives do change what ITM learns.
TEST_F(TrainingJobTest, TextNegativesResumeExactlyAndChangeTheItmLoss) {
  TrainJobConfig c = tiny(TrainTask::kFilter, 4);
  c.text_negatives = true;
  auto first_itm = [&](const TrainJobConfig& config, const std::string& name) {
    TrainJobContext ctx = context(name);
    double itm = -1;
    ctx.on_event = [&](const ProgressEvent& e) {
      if (e.kind == ProgressEventKind::kProgress && itm < 0) itm = e.metrics.at("loss_itm");
    };
    auto r = run_training_job(config, ctx);
    EXPECT_TRUE(r && r->status == "succeeded") << (r ? r->status : r.status().message());
    return itm;
  };
  const double with = first_itm(c, "whole");
  TrainJobConfig plain = c;
  plain.text_negatives = false;
  const double without = first_itm(plain, "plain");
  EXPECT_GT(std::abs(with - without), 1e-4) << with << " vs " << without;

  TrainJobContext first = context("parts");
  int steps_seen = 0;
  first.on_event = [&](const ProgressEvent& e) {
    steps_seen += e.kind == ProgressEventKind::kProgress;
  };
  first.should_stop = [&] { return steps_seen >= 2; };
  auto part = run_training_job(c, first);
  ASSERT_TRUE(part) << part.status().message();
  ASSERT_EQ(part->status, "cancelled");
  TrainJobContext second = context("parts");
  second.resume = true;
  auto rest = run_training_job(c, second);
  ASSERT_TRUE(rest && rest->status == "succeeded");
  auto diff = max_checkpoint_difference(newest_checkpoint((root_ / "whole").string()),
                                        newest_checkpoint((root_ / "parts").string()),
                                        /*with_state=*/true);
  ASSERT_TRUE(diff) << diff.status().message();
  EXPECT_LE(*diff, 1e-6);
}

TEST_F(TrainingJobTest, SigtermWritesALoadableCheckpoint) {
  TrainJobConfig c = tiny(TrainTask::kFilter, 20);
  TrainJobContext ctx = context("job");
  ctx.should_stop = install_stop_signal_handlers();
  ctx.on_event = [](const ProgressEvent& e) {
    if (e.kind == ProgressEventKind::kProgress && e.step && *e.step == 2) std::raise(SIGTERM);
  };
  auto r = run_training_job(c, ctx);
  ASSERT_TRUE(r) << r.status().message();  // still alive: the signal only asked it to stop
  EXPECT_EQ(r->status, "cancelled");
  EXPECT_EQ(r->steps_done, 2);
  const std::string ckpt = newest_checkpoint(ctx.job_dir);
  ASSERT_EQ(ckpt, r->checkpoint);
  for (const char* f : {"config.json", "model.safetensors", "training_state.safetensors", "state.json"}) {
    EXPECT_TRUE(fs::exists(fs::path(ckpt) / f)) << f;
  }
  auto self = max_checkpoint_difference(ckpt, ckpt, true);  // both files parse
  ASSERT_TRUE(self) << self.status().message();
  EXPECT_EQ(*self, 0.0);
  for (const auto& e : fs::directory_iterator(fs::path(ctx.job_dir) / "checkpoints")) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos);
  }
}

TEST_F(TrainingJobTest, MetricsJobAndModelLandInTheProject) {
  auto project = db::Project::open((root_ / "p.capfilt").string());
  ASSERT_TRUE(project) << project.status().message();
  ImportOptions io;
  io.source = db::CaptionSource::kHuman;
  io.split = "train";
  ASSERT_TRUE(import_dataset(**project, root_ / "data" / "human_train.json", io));
  io.source = db::CaptionSource::kWeb;
  ASSERT_TRUE(import_dataset(**project, root_ / "data" / "web_train.json", io));

  TrainJobConfig c = tiny(TrainTask::kFilter, 3);
  c.data.annotation_files.clear();
  // No image_root: the images are found under the dataset root the import recorded (root_/data),
  // not beside the project file (root_).
  c.data.sources = {"human"};
  c.data.split = "train";
  TrainJobContext ctx = context("job");
  ctx.project = project->get();
  ctx.pid = 1234;
  auto r = run_training_job(c, ctx);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_GT(r->job_id, 0);
  EXPECT_GT(r->model_id, 0);

  auto job = (*project)->job(r->job_id);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, db::JobStatus::kSucceeded);
  EXPECT_EQ(job->pid, 1234);
  EXPECT_DOUBLE_EQ(job->progress, 1.0);
  EXPECT_EQ(job->kind, "train");
  EXPECT_TRUE(fs::exists(job->log_path));
  for (const char* name : {"loss_itc", "loss_itm", "loss", "lr", "temperature", "pairs_per_s"}) {
    auto m = (*project)->job_metrics(r->job_id, name);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->size(), 3u) << name;
  }
  auto model = (*project)->model(r->model_id);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->task, "filter");
  EXPECT_TRUE(fs::exists(fs::path(model->checkpoint_path) / "model.safetensors"));
  EXPECT_NE(model->config_json.find("\"queue_size\": 16"), std::string::npos);

  // The progress log holds one JSON object per line, from start to finished.
  std::ifstream log(job->log_path);
  std::string line, last;
  int lines = 0;
  while (std::getline(log, line)) {
    ASSERT_TRUE(parse_progress_line(line)) << line;
    last = line;
    ++lines;
  }
  EXPECT_GE(lines, 5);
  EXPECT_NE(last.find("\"succeeded\""), std::string::npos);

  // A captioner fine-tuned from it records it as parent.
  TrainJobConfig cap = tiny(TrainTask::kCaptioner, 1);
  cap.init = model->checkpoint_path;
  cap.data = c.data;
  TrainJobContext ctx2 = context("job2");
  ctx2.project = project->get();
  auto r2 = run_training_job(cap, ctx2);
  ASSERT_TRUE(r2) << r2.status().message();
  auto child = (*project)->model(r2->model_id);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->parent_id, r->model_id);
  EXPECT_EQ(child->task, "captioner");
}

// Losses over a few steps on one repeated batch (8 pairs, batch 8): the last below the first.
void expect_losses_fall(const TrainJobConfig& c, TrainJobContext ctx,
                        const std::vector<std::string>& terms) {
  std::vector<std::map<std::string, double>> history;
  ctx.on_event = [&](const ProgressEvent& e) {
    if (e.kind == ProgressEventKind::kProgress) history.push_back(e.metrics);
  };
  auto r = run_training_job(c, ctx);
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ(history.size(), static_cast<size_t>(c.steps));
  for (const std::string& t : terms) {
    ASSERT_TRUE(history.front().count(t)) << t;
    const double first = (history[0][t] + history[1][t]) / 2;
    const double last = (history[c.steps - 1][t] + history[c.steps - 2][t]) / 2;
    EXPECT_LT(last, first) << to_string(c.task) << " " << t << ": " << first << " -> " << last;
    std::printf("%s %s: %.4f -> %.4f (mean of first two / last two of %lld steps)\n",
                to_string(c.task), t.c_str(), first, last, static_cast<long long>(c.steps));
  }
}

// The first 8 clean pairs, so every step sees the same pairs (in new crops).
TrainJobConfig few_pairs(TrainJobConfig c, const fs::path& root) {
  const fs::path few = root / "few.json";
  std::ifstream in(root / "data" / "human_train.json");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  size_t pos = 0;
  for (int i = 0; i < 8; ++i) pos = s.find('}', pos) + 1;
  std::ofstream(few) << s.substr(0, pos) << "]";
  c.batch_size = 8;
  c.data.annotation_files = {few.string()};
  c.data.image_root = (root / "data").string();
  return c;
}

TEST_F(TrainingJobTest, PretrainLossesFall) {
  expect_losses_fall(few_pairs(tiny(TrainTask::kPretrain, 8), root_), context("job"),
                     {"loss_itc", "loss_lm", "loss"});
}

TEST_F(TrainingJobTest, CaptionerLossFalls) {
  expect_losses_fall(few_pairs(tiny(TrainTask::kCaptioner, 8), root_), context("job"),
                     {"loss_lm"});
}

TEST_F(TrainingJobTest, FilterLossesFall) {
  expect_losses_fall(few_pairs(tiny(TrainTask::kFilter, 8), root_), context("job"),
                     {"loss_itc", "loss"});
}

TEST_F(TrainingJobTest, VqaLossFalls) {
  TrainJobConfig v = tiny(TrainTask::kVqa, 8);
  v.batch_size = 8;
  expect_losses_fall(v, context("job"), {"loss_vqa"});
}

TEST_F(TrainingJobTest, VqaStartsFromAPretrainedModel) {
  // BLIP initialises the VQA answer decoder from the pre-trained decoder, whose shared layers live
  // under text_encoder.*: the VQA model gets its own copies.
  auto pre = run_training_job(tiny(TrainTask::kPretrain, 1), context("pre"));
  ASSERT_TRUE(pre) << pre.status().message();
  TrainJobConfig v = tiny(TrainTask::kVqa, 2);
  v.init = pre->model_path;
  auto r = run_training_job(v, context("vqa"));
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->status, "succeeded");
  std::ifstream config(fs::path(r->model_path) / "config.json");
  std::stringstream text;
  text << config.rdbuf();
  EXPECT_NE(text.str().find("\"sharing\": \"separate\""), std::string::npos);
}

TEST_F(TrainingJobTest, SelectionSmallerThanABatchIsRefused) {
  TrainJobConfig c = tiny(TrainTask::kPretrain, 2);
  c.batch_size = 64;
  auto r = run_training_job(c, context("job"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("fewer than one batch"), std::string::npos);
  EXPECT_NE(r.status().message().find("'batch_size'"), std::string::npos);
}

TEST_F(TrainingJobTest, ResumeWithNothingToResume) {
  TrainJobContext ctx = context("empty");
  ctx.resume = true;
  auto r = run_training_job(tiny(TrainTask::kPretrain, 2), ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("nothing to resume"), std::string::npos);
}

TEST_F(TrainingJobTest, CheckpointFromAnotherConfigIsRefused) {
  TrainJobConfig c = tiny(TrainTask::kPretrain, 4);
  TrainJobContext ctx = context("job");
  int steps = 0;
  ctx.on_event = [&](const ProgressEvent& e) { steps += e.kind == ProgressEventKind::kProgress; };
  ctx.should_stop = [&] { return steps >= 1; };
  ASSERT_TRUE(run_training_job(c, ctx));
  const std::string before = newest_checkpoint(ctx.job_dir);

  TrainJobConfig changed = c;
  changed.batch_size = 8;
  TrainJobContext again = context("job");
  again.resume = true;
  auto r = run_training_job(changed, again);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("state.json"), std::string::npos);
  EXPECT_NE(r.status().message().find("'batch_size'"), std::string::npos);
  EXPECT_EQ(newest_checkpoint(ctx.job_dir), before);  // nothing touched

  // Nor with other pairs than it stopped in.
  TrainJobConfig other_pairs = c;
  other_pairs.data.annotation_files = {(root_ / "data" / "web_train.json").string()};
  auto d = run_training_job(other_pairs, again);
  ASSERT_FALSE(d);
  EXPECT_NE(d.status().message().find("'data'"), std::string::npos) << d.status().message();

  // Starting afresh over a job's checkpoints is refused too (they would be mixed).
  auto fresh = run_training_job(c, context("job"));
  ASSERT_FALSE(fresh);
  EXPECT_NE(fresh.status().message().find("--resume"), std::string::npos);

  // A model checkpoint whose vocabulary differs from the tokenizer's.
  TrainJobConfig other_vocab = c;
  other_vocab.init = before;
  other_vocab.vocab = std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab/tiny_vocab.txt";
  auto v = run_training_job(other_vocab, context("vocab"));
  ASSERT_FALSE(v);
  EXPECT_NE(v.status().message().find("vocab_size"), std::string::npos);
}

TEST_F(TrainingJobTest, FullDiskKeepsThePreviousCheckpoint) {
  // A file-size limit stands in for a full disk: after the first checkpoint, no file may grow
  // past 64 KiB, so the second checkpoint's weights cannot be written.
  TrainJobConfig c = tiny(TrainTask::kFilter, 4);
  c.checkpoint_every = 1;
  c.keep_checkpoints = 1;
  TrainJobContext ctx = context("job");
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the process
  ctx.on_event = [&](const ProgressEvent& e) {
    if (e.kind != ProgressEventKind::kCheckpoint) return;
    rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    setrlimit(RLIMIT_FSIZE, &small);
  };
  auto r = run_training_job(c, ctx);
  setrlimit(RLIMIT_FSIZE, &saved);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_NE(r.status().message().find("previous checkpoint stays valid"), std::string::npos);
  const std::string ckpt = newest_checkpoint(ctx.job_dir);
  EXPECT_EQ(fs::path(ckpt).filename().string(), "step-00000001");
  auto self = max_checkpoint_difference(ckpt, ckpt, true);
  ASSERT_TRUE(self) << self.status().message();
  for (const auto& e : fs::directory_iterator(fs::path(ctx.job_dir) / "checkpoints")) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos);
  }
  // And the job resumes from it once there is room again.
  TrainJobContext again = context("job");
  again.resume = true;
  auto resumed = run_training_job(c, again);
  ASSERT_TRUE(resumed) << resumed.status().message();
  EXPECT_EQ(resumed->steps_done, 4);
}

}  // namespace
}  // namespace capfilt::core
