// Data-parallel training through `capfilt launch` on this machine (two processes, Gloo over
// loopback, the tiny model on 32-pixel images): equal to one process on the global batch, resumed
// with another number of processes, and a killed rank ending the job with a clear error.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/train_test_support.h"
#include "core/importer.h"
#include "core/job_progress.h"
#include "core/training_job.h"
#include "db/project.h"
#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts capfilt with `args`, stdout and stderr into `log`.
pid_t start(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 1);
  dup2(fd, 2);
  std::vector<char*> argv{const_cast<char*>(test::kCapfiltBinary)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

// Exit status (128 + signal when killed), or -1 after `timeout` (the process is killed then).
int wait_for(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// The progress events' metrics by step.
std::map<int64_t, std::map<std::string, double>> metrics_by_step(const fs::path& job_dir) {
  std::map<int64_t, std::map<std::string, double>> out;
  std::ifstream in(job_dir / "progress.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto e = parse_progress_line(line);
    if (e && e->kind == ProgressEventKind::kProgress && e->step) out[*e->step] = e->metrics;
  }
  return out;
}

class DistributedTrainTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = train_test::scratch_with_demo_data(); }

  // `capfilt [launch --nproc N --] train pretrain ...` on the tiny model; batch is the global one.
  std::vector<std::string> train_args(int nproc, const std::string& job, int64_t steps,
                                      int64_t batch, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{"--threads", "1", "--device", "cpu"};
    if (nproc > 0) a.insert(a.end(), {"launch", "--nproc", std::to_string(nproc), "--grace", "20", "--"});
    a.insert(a.end(), {"train", "pretrain", "--job-dir", (root_ / job).string(), "--preset", "tiny",
                       "--image-size", "32", "--queue-size", "16", "--steps", std::to_string(steps),
                       "--batch-size", std::to_string(batch), "--lr", "1e-3", "--warmup-steps", "1",
                       "--seed", "3", "--workers", "1", "--log-every", "1",
                       "--vocab", std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt",
                       "--annotations", (root_ / "data" / "human_train.json").string()});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  int run(const std::vector<std::string>& args, const std::string& log_name,
          std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const fs::path log = root_ / (log_name + ".log");
    const int rc = wait_for(start(args, log), timeout);
    last_log_ = slurp(log);
    return rc;
  }

  void expect_resume_equals_whole(int first, int then);

  fs::path root_;
  std::string last_log_;
};

// 2 processes with 4 pairs each = 1 process with 8 pairs: 5 steps (16 pairs: crossing an epoch),
// the same per-step losses and the same weights, momentum encoders, queue, optimiser state and
// hard-negative generator afterwards. The hard negatives are drawn over the global batch from
// the generator every rank shares, so even they are the draw one process makes; what differs is
// only floating-point summation order (batched matmuls of 4 vs 8 rows, the gradient averaged
// over ranks), far below 1e-4.
TEST_F(DistributedTrainTest, TwoProcessesEqualOneProcessOnTheGlobalBatch) {
  ASSERT_EQ(run(train_args(0, "one", 5, 8), "one"), 0) << last_log_;
  ASSERT_EQ(run(train_args(2, "two", 5, 8), "two"), 0) << last_log_;

  const auto one = metrics_by_step(root_ / "one");
  const auto two = metrics_by_step(root_ / "two");
  ASSERT_EQ(one.size(), 5u);
  ASSERT_EQ(two.size(), 5u);
  for (const auto& [step, m] : one) {
    for (const char* name : {"loss_itc", "loss_itm", "loss_lm", "grad_norm", "temperature"}) {
      EXPECT_NEAR(m.at(name), two.at(step).at(name), 1e-4) << name << " at step " << step;
    }
    EXPECT_EQ(two.at(step).at("processes"), 2.0);
  }
  const auto diff = max_checkpoint_difference(newest_checkpoint((root_ / "one").string()),
                                              newest_checkpoint((root_ / "two").string()), true);
  ASSERT_TRUE(diff) << diff.status().message();
  EXPECT_LT(*diff, 1e-4);
  // Rank 0 alone wrote: one progress stream with one line per step, one model.
  EXPECT_TRUE(fs::exists(root_ / "two" / "model" / "model.safetensors"));
}

// A job stopped at step 3 (mid-epoch: 16 pairs, global batch 8) continues with another number of
// processes to the same step-5 state as the uninterrupted job. `first` and `then` are process
// counts (0: plain `capfilt train`, no launcher).
void DistributedTrainTest::expect_resume_equals_whole(int first, int then) {
  const std::vector<std::string> every3{"--checkpoint-every", "3", "--keep-checkpoints", "3"};
  ASSERT_EQ(run(train_args(first, "job", 5, 8, every3), "whole"), 0) << last_log_;
  const fs::path whole = root_ / "whole-step5";
  fs::copy(newest_checkpoint((root_ / "job").string()), whole, fs::copy_options::recursive);
  // Back to the state of a job stopped after step 3.
  fs::remove_all(root_ / "job" / "checkpoints" / "step-00000005");
  fs::remove_all(root_ / "job" / "model");
  ASSERT_NE(newest_checkpoint((root_ / "job").string()).find("step-00000003"), std::string::npos);

  std::vector<std::string> resume = train_args(then, "job", 5, 8, every3);
  resume.push_back("--resume");
  ASSERT_EQ(run(resume, "resume"), 0) << last_log_;
  EXPECT_NE(slurp(root_ / "job" / "progress.jsonl").find("resumed from"), std::string::npos);
  const auto diff =
      max_checkpoint_difference(newest_checkpoint((root_ / "job").string()), whole.string(), true);
  ASSERT_TRUE(diff) << diff.status().message();
  EXPECT_LT(*diff, 1e-4);
  EXPECT_NE(last_log_.find("resumed from"), std::string::npos) << last_log_;
  EXPECT_NE(last_log_.find("step 5/5"), std::string::npos) << last_log_;
}

TEST_F(DistributedTrainTest, TwoProcessCheckpointContinuesInOneProcess) {
  expect_resume_equals_whole(2, 0);
}

TEST_F(DistributedTrainTest, OneProcessCheckpointContinuesInTwoProcesses) {
  expect_resume_equals_whole(0, 2);
}

// SIGTERM to the launcher is forwarded to both ranks, which agree to stop after the same step:
// exit status 3 and one checkpoint at the last step reported. The job then goes on in one process.
TEST_F(DistributedTrainTest, SigtermStopsEveryRankAfterTheSameStepAndTheJobGoesOnInOneProcess) {
  auto stop_after_two_more = [&](const std::vector<std::string>& args, const std::string& name) {
    const fs::path log = root_ / (name + ".log");
    const size_t before = metrics_by_step(root_ / "job").size();
    const pid_t pid = start(args, log);
    const auto begun = Clock::now();
    while (metrics_by_step(root_ / "job").size() < before + 2 &&
           Clock::now() - begun < std::chrono::seconds(90)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGTERM);
    const int rc = wait_for(pid, std::chrono::seconds(60));
    last_log_ = slurp(log);
    return rc;
  };
  ASSERT_EQ(stop_after_two_more(train_args(2, "job", 100000, 8), "two"), 3) << last_log_;
  EXPECT_NE(last_log_.find("forwarding"), std::string::npos) << last_log_;
  const int64_t stopped_at = metrics_by_step(root_ / "job").rbegin()->first;
  EXPECT_NE(newest_checkpoint((root_ / "job").string()).find("step-" + std::string(8 - std::to_string(stopped_at).size(), '0') +
                                                               std::to_string(stopped_at)),
            std::string::npos);

  std::vector<std::string> resume = train_args(0, "job", 100000, 8);
  resume.push_back("--resume");
  ASSERT_EQ(stop_after_two_more(resume, "one"), 3) << last_log_;
  EXPECT_NE(last_log_.find("resumed from"), std::string::npos) << last_log_;
  EXPECT_GT(metrics_by_step(root_ / "job").rbegin()->first, stopped_at + 1);
}

// Rank 1 killed mid-job: rank 0 fails with a message naming the lost contact, the launcher
// reports the killed rank and exits non-zero, all within 60 s; the project's job row is marked
// failed and the job's checkpoint is there to resume from.
TEST_F(DistributedTrainTest, AKilledRankEndsTheJobWithAClearError) {
  const fs::path project_path = root_ / "p.capfilt";
  {
    auto project = db::Project::open(project_path.string());
    ASSERT_TRUE(project) << project.status().message();
  }
  std::vector<std::string> args =
      train_args(2, "job", 100000, 8, {"--checkpoint-every", "1", "--project", project_path.string()});
  const fs::path log = root_ / "killed.log";
  const pid_t launcher = start(args, log);
  // Wait for two steps, then kill rank 1 (the launcher's child with RANK=1).
  const auto begun = Clock::now();
  while (metrics_by_step(root_ / "job").size() < 2 && Clock::now() - begun < std::chrono::seconds(90)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(metrics_by_step(root_ / "job").size(), 2u) << slurp(log);
  pid_t rank1 = 0;
  std::istringstream children(slurp("/proc/" + std::to_string(launcher) + "/task/" +
                                    std::to_string(launcher) + "/children"));
  for (pid_t child; children >> child;) {
    const std::string env = slurp("/proc/" + std::to_string(child) + "/environ");
    if (env.find(std::string("RANK=1") + '\0') != std::string::npos) rank1 = child;
  }
  ASSERT_GT(rank1, 0) << "rank 1 not found among the launcher's children";
  const auto killed = Clock::now();
  ASSERT_EQ(kill(rank1, SIGKILL), 0);
  const int rc = wait_for(launcher, std::chrono::seconds(60));
  const double seconds = std::chrono::duration<double>(Clock::now() - killed).count();
  const std::string out = slurp(log);
  ASSERT_NE(rc, -1) << "the job still ran 60 s after rank 1 was killed:\n" << out;
  EXPECT_NE(rc, 0);
  EXPECT_LT(seconds, 60.0);
  EXPECT_NE(out.find("rank 1 (pid " + std::to_string(rank1) + ") was killed by signal 9"),
            std::string::npos) << out;
  EXPECT_NE(out.find("lost contact with the other processes"), std::string::npos) << out;

  auto project = db::Project::open(project_path.string());
  ASSERT_TRUE(project);
  auto jobs = (*project)->jobs();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->front().status, db::JobStatus::kFailed);
  EXPECT_NE(jobs->front().error.find("lost contact"), std::string::npos) << jobs->front().error;
  EXPECT_FALSE(newest_checkpoint((root_ / "job").string()).empty());
  std::cout << "the job failed " << seconds << " s after rank 1 was killed\n";
}

}  // namespace
}  // namespace capfilt::core
