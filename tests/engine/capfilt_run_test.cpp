// CapFilt over a small demo project with a tiny (untrained) BLIP: what one run writes, what a re-run
// leaves alone, a run killed with SIGKILL and resumed, two shards in two processes at once, a
// corrupt image, and the refusals. Every test process has its own scratch folder (ctest runs each
// case in its own process), and the parent never runs Torch with more than one thread before it
// forks, so the children's OpenMP starts clean.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "engine/capfilt_fixture.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

using test_support::CapfiltFixture;
using test_support::kVocab;
using test_support::Snapshot;

class CapfiltRunTest : public CapfiltFixture {
 protected:
  static void SetUpTestSuite() { make_data_and_model("capfilt-run"); }

  // Runs CapFilt on project `name` in a child process (no Torch state is shared with it).
  static pid_t run_in_child(const std::string& name, int shard_index, int shard_count) {
    const pid_t pid = fork();
    if (pid == 0) {
      auto project = reopen(name);
      auto e = engine();
      CapfiltRunOptions o = options();
      o.batch_images = kComparedBatch;
      o.shard_index = shard_index;
      o.shard_count = shard_count;
      auto report = run_capfilt(*project, models(*project, *e), o);
      _exit(report.is_ok() ? 0 : 1);
    }
    return pid;
  }

  static int64_t count_scores(const std::string& name) {
    auto project = reopen(name);
    int64_t n = 0;
    project->for_each_pair({}, [&](const db::PairRow& r) {
      n += r.itm.has_value();
      return Status::ok();
    });
    return n;
  }
};

TEST_F(CapfiltRunTest, OneSyntheticCaptionOneScoreAndOneAutomaticDecisionEach) {
  auto project = make_project("once");
  auto e = engine();
  const CapfiltModels m = models(*project, *e);
  auto report = run_capfilt(*project, m, options());
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  EXPECT_TRUE(report->failures.empty());
  EXPECT_FALSE(report->cancelled);
  EXPECT_EQ(report->images_processed, report->images_in_scope);

  const Snapshot s = snapshot(*project, m.filter_id);
  EXPECT_EQ(static_cast<int64_t>(s.size()), report->images_in_scope);
  int64_t captions = 0, non_human = 0;
  for (const auto& [path, rows] : s) {
    int synthetic = 0;
    for (const auto& r : rows) {
      ++captions;
      synthetic += r.source == "synthetic";
      EXPECT_GE(r.itm, 0.0) << path << ": every caption is scored";
      if (r.source == "human") {
        EXPECT_EQ(r.decision, "undecided") << "human captions are never decided automatically";
      } else {
        ++non_human;
        EXPECT_EQ(r.decision, r.itm < 0.5 ? "drop" : "keep") << path << " " << r.text;
      }
    }
    EXPECT_EQ(synthetic, 1) << path;
  }
  EXPECT_EQ(report->counts.scores_written, captions);
  EXPECT_EQ(report->counts.decisions_written, non_human);
  auto log = project->decision_log();
  ASSERT_TRUE(log.is_ok());
  EXPECT_EQ(static_cast<int64_t>(log->size()), non_human);
  for (const auto& entry : log.value()) EXPECT_EQ(entry.origin, db::DecisionOrigin::kAuto);
  EXPECT_TRUE(project->check().is_ok());

  // A second run with the same models finds everything done and writes nothing.
  auto again = run_capfilt(*project, m, options());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->images_processed, 0);
  EXPECT_EQ(again->images_already_done, report->images_in_scope);
  EXPECT_EQ(again->counts.decisions_written, 0);
  EXPECT_EQ(project->decision_log()->size(), log->size());
}

TEST_F(CapfiltRunTest, ACuratorsDecisionSurvivesARerun) {
  auto project = make_project("curator");
  auto e = engine();
  CapfiltModels m = models(*project, *e);
  ASSERT_TRUE(run_capfilt(*project, m, options()).is_ok());
  // The curator overrides the filter on one web caption.
  db::PairFilter web;
  web.sources = {db::CaptionSource::kWeb};
  db::PageRequest request;
  request.filter = web;
  request.limit = 1;
  auto page = project->page(request);
  ASSERT_TRUE(page.is_ok() && !page->rows.empty());
  const db::PairRow chosen = page->rows[0];
  const db::Decision override_to =
      chosen.decision == db::Decision::kKeep ? db::Decision::kDrop : db::Decision::kKeep;
  ASSERT_TRUE(project->decide({{chosen.caption_id, override_to, db::DecisionOrigin::kCurator,
                                "ada", "looked at it"}})
                  .is_ok());

  // A new threshold makes the filter propose again for every caption, but not this one.
  CapfiltRunOptions o = options();
  o.threshold = override_to == db::Decision::kKeep ? 1.0 : 0.0;  // proposes the opposite
  torch::manual_seed(1);
  model::Blip other(model::preset("tiny"));
  model::save_checkpoint(other, root_ + "/other-filter");
  auto other_engine = BlipEngine::open({root_ + "/other-filter", kVocab, "cpu"}).value();
  m.filter = other_engine.get();
  m.filter_id = register_model(*project, other_engine->info(), "filter").value();
  auto report = run_capfilt(*project, m, o);
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  EXPECT_GE(report->counts.kept_by_curator, 1);
  auto after = project->pair(chosen.caption_id);
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(after->decision, override_to);
  EXPECT_TRUE(project->check().is_ok());
}

TEST_F(CapfiltRunTest, AKilledRunResumesToTheRowsOfAnUninterruptedOne) {
  auto killed = make_project("killed");
  auto whole = make_project("whole");
  killed.reset();
  whole.reset();
  const pid_t child = run_in_child("killed", 0, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (count_scores("killed") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";

  auto project = reopen("killed");
  EXPECT_TRUE(project->check().is_ok());
  auto e = engine();
  const CapfiltModels m = models(*project, *e);
  CapfiltRunOptions compared = options();
  compared.batch_images = kComparedBatch;
  auto resumed = run_capfilt(*project, m, compared);
  ASSERT_TRUE(resumed.is_ok());
  EXPECT_GT(resumed->images_already_done, 0);
  EXPECT_LT(resumed->images_processed, resumed->images_in_scope);

  auto reference = reopen("whole");
  const CapfiltModels mr = models(*reference, *e);
  ASSERT_TRUE(run_capfilt(*reference, mr, compared).is_ok());
  expect_same(snapshot(*project, m.filter_id), snapshot(*reference, mr.filter_id));
  EXPECT_EQ(project->decision_log()->size(), reference->decision_log()->size());
}

TEST_F(CapfiltRunTest, TwoShardsInTwoProcessesEqualOneRun) {
  make_project("sharded").reset();
  auto whole = make_project("unsharded");
  const pid_t a = run_in_child("sharded", 0, 2);
  const pid_t b = run_in_child("sharded", 1, 2);
  int sa = 0, sb = 0;
  waitpid(a, &sa, 0);
  waitpid(b, &sb, 0);
  ASSERT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
  ASSERT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);

  auto sharded = reopen("sharded");
  auto e = engine();
  const CapfiltModels ms = models(*sharded, *e);
  const CapfiltModels mw = models(*whole, *e);
  EXPECT_EQ(ms.filter_id, 1) << "both processes registered the model once";
  CapfiltRunOptions compared = options();
  compared.batch_images = kComparedBatch;
  ASSERT_TRUE(run_capfilt(*whole, mw, compared).is_ok());
  expect_same(snapshot(*sharded, ms.filter_id), snapshot(*whole, mw.filter_id));
  EXPECT_TRUE(sharded->check().is_ok());
}

TEST_F(CapfiltRunTest, ACorruptImageIsReportedAndSkipped) {
  auto project = make_project("corrupt");
  // Break the image of the first pair after the import.
  db::PageRequest request;
  request.limit = 1;
  request.sort = db::PairSort::kPath;
  const std::string broken = project->page(request)->rows[0].image.path;
  std::ofstream(root_ + "/data/" + broken, std::ios::trunc) << "not a png";
  auto e = engine();
  auto report = run_capfilt(*project, models(*project, *e), options());
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_EQ(report->failures[0].image, broken);
  EXPECT_FALSE(report->failures[0].why.empty());
  EXPECT_EQ(report->images_processed, report->images_in_scope - 1);
  // The next run tries the broken image again, and only it.
  auto again = run_capfilt(*project, models(*project, *e), options());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->failures.size(), 1u);
  EXPECT_EQ(again->images_already_done, report->images_in_scope - 1);
}

TEST_F(CapfiltRunTest, RefusesBadOptionsAndModelsInTheWrongRole) {
  int i = 0, n = 0;
  EXPECT_FALSE(parse_shard("3/2", &i, &n).is_ok());
  EXPECT_FALSE(parse_shard("1/0", &i, &n).is_ok());
  EXPECT_FALSE(parse_shard("a/b", &i, &n).is_ok());
  EXPECT_TRUE(parse_shard("1/2", &i, &n).is_ok());
  EXPECT_EQ(i, 1);
  EXPECT_EQ(n, 2);

  auto e = engine();
  CapfiltModels m;
  m.captioner = m.filter = e.get();
  m.captioner_id = m.filter_id = 1;
  CapfiltRunOptions o = options();
  o.threshold = 1.5;
  EXPECT_NE(validate(o, m).message().find("threshold"), std::string::npos);

  model::BlipConfig filter_only = model::preset("tiny");
  filter_only.components.text_decoder = false;
  model::save_checkpoint(model::Blip(filter_only), root_ + "/filter-only");
  auto filter = BlipEngine::open({root_ + "/filter-only", kVocab, "cpu"});
  ASSERT_TRUE(filter.is_ok()) << filter.status().message();
  m.captioner = filter.value().get();
  const Status wrong = validate(options(), m);
  EXPECT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.message().find("cannot be the captioner"), std::string::npos) << wrong.message();
}

}  // namespace
}  // namespace capfilt::core
