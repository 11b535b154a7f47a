// The Jobs tab with the real `capfilt` on a small demo project and the tiny preset: a job launched
// from the form runs to completion with its charts fed and its metrics in the project; Cancel makes
// a training job checkpoint and stop (and Resume continues from there); a studio opened again while
// a job runs reattaches to it; a job whose process is gone is shown failed with its last lines.

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QProgressBar>
#include <QSpinBox>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "demo_project.h"
#include "ui_test_support.h"
#include "ui/jobs/data_selection.h"
#include "ui/jobs/job_charts.h"
#include "ui/jobs/job_form.h"
#include "ui/jobs/job_manager.h"
#include "ui/jobs/job_process.h"
#include "ui/jobs/jobs_panel.h"
#include "ui/jobs/log_view.h"
#include "ui/shared/project_document.h"

#ifndef CAPFILT_PROGRAM
#error "CAPFILT_PROGRAM (the capfilt executable) must be defined by tests/CMakeLists.txt"
#endif

namespace capfilt::ui {
namespace {

namespace fs = std::filesystem;

class JobsPanelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch("jobs_panel");
    path_ = test::build_demo_project(dir_ / "demo", 24);
    doc_ = open();
  }

  void TearDown() override {
    // Never leave a job running after a test, whatever it asserted.
    if (doc_) {
      if (auto jobs = doc_->project().jobs()) {
        for (const auto& j : *jobs)
          if (request_stop(j.pid)) test::wait_until([&] { return !job_process_alive(j.pid); }, 30000);
      }
    }
  }

  std::unique_ptr<ProjectDocument> open() {
    auto doc = ProjectDocument::open(QString::fromStdString(path_), "tester");
    EXPECT_TRUE(doc.is_ok()) << doc.status().message();
    (*doc)->setImagesRoot(QString::fromStdString((dir_ / "demo" / "data").string()));
    return std::move(doc).value();
  }

  std::unique_ptr<JobsPanel> panel() {
    return std::make_unique<JobsPanel>(doc_.get(), QString(CAPFILT_PROGRAM), nullptr, 50);
  }

  // Fills the pre-training form: tiny preset, `steps` steps of 4 pairs.
  static void fill_pretrain(JobForm* form, int steps) {
    form->setKind(JobForm::Kind::kPretrain);
    form->findChild<QSpinBox*>("steps")->setValue(steps);
    form->findChild<QSpinBox*>("batch_size")->setValue(4);
    form->findChild<QSpinBox*>("warmup_steps")->setValue(0);
  }

  static const JobEntry* selected(JobsPanel& p) { return p.manager()->job(p.selectedKey()); }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<ProjectDocument> doc_;
};

TEST_F(JobsPanelTest, FormSaysWhatIsWrongBeforeLaunch) {
  auto p = panel();
  JobForm* form = p->form();
  fill_pretrain(form, 0);
  form->findChild<QSpinBox*>("epochs")->setValue(0);
  form->findChild<QSpinBox*>("batch_size")->setValue(4000);
  form->submit();
  EXPECT_NE(form->problems().indexOf("number of steps"), -1) << form->problems().toStdString();
  EXPECT_NE(form->problems().indexOf("fewer than one batch of 4000"), -1) << form->problems().toStdString();
  form->setKind(JobForm::Kind::kVqa);
  form->submit();
  EXPECT_NE(form->problems().indexOf("question file"), -1);
  form->setKind(JobForm::Kind::kCapfilt);
  form->submit();  // the demo fixture's filter has scores but no checkpoint folder
  EXPECT_NE(form->problems().indexOf("Choose the captioner"), -1) << form->problems().toStdString();
  EXPECT_TRUE(p->manager()->jobs().empty());
}

TEST_F(JobsPanelTest, PresetsFillTheTrainingForm) {
  auto p = panel();
  JobForm* form = p->form();
  form->setKind(JobForm::Kind::kCaptioner);
  form->findChild<QComboBox*>("preset")->setCurrentText("base");
  EXPECT_EQ(form->findChild<QSpinBox*>("batch_size")->value(), 32);
  EXPECT_DOUBLE_EQ(form->findChild<QDoubleSpinBox*>("lr")->value(), 1e-5);
  EXPECT_EQ(form->findChild<QSpinBox*>("image_size")->value(), 384);
  form->findChild<QComboBox*>("preset")->setCurrentText("tiny");
  EXPECT_EQ(form->findChild<QSpinBox*>("steps")->value(), 300);
}

TEST_F(JobsPanelTest, LaunchedJobRunsToCompletionWithChartsAndMetrics) {
  auto p = panel();
  fill_pretrain(p->form(), 6);
  p->form()->dataSelection()->setSources({"web", "human"});
  p->form()->submit();
  ASSERT_EQ(p->form()->problems(), "");
  const JobEntry* e = selected(*p);
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(test::wait_until([&] { return !e->live; }, 120000)) << e->log.join('\n').toStdString();
  ASSERT_EQ(e->status, db::JobStatus::kSucceeded) << e->error.toStdString() << e->log.join('\n').toStdString();
  QTest::qWait(200);  // the panel's refresh timer

  // The charts: every loss term, the learning rate and throughput, one point per step.
  for (const char* name : {"loss", "loss_itc", "loss_itm", "loss_lm", "lr", "pairs_per_s"})
    EXPECT_EQ(p->charts()->pointCount(name), 6) << name;
  EXPECT_EQ(p->progressBar()->value(), 1000);
  EXPECT_GT(p->log()->search("loss_itc"), 0);

  // The project: the job row, its metrics, the trained model.
  ASSERT_GT(e->job_id, 0);
  auto row = doc_->project().job(e->job_id);
  ASSERT_TRUE(row.is_ok());
  EXPECT_EQ(row->status, db::JobStatus::kSucceeded);
  auto losses = doc_->project().job_metrics(e->job_id, "loss");
  ASSERT_TRUE(losses.is_ok());
  EXPECT_EQ(losses->size(), 6u);
  EXPECT_NEAR(losses->back().value, e->series.at("loss").rbegin()->second, 1e-9);
  EXPECT_TRUE(e->final_metrics.count("loss_itc"));
  bool trained_model = false;
  for (const auto& m : doc_->project().models().value()) trained_model |= m.task == "pretrain";
  EXPECT_TRUE(trained_model);
  // The same arguments once more, in a new folder.
  EXPECT_NE(e->request.arguments.indexOf("--source"), -1);
  const int first = p->selectedKey();
  p->rerunSelected();
  EXPECT_NE(p->selectedKey(), first);
  const JobEntry* again = selected(*p);
  EXPECT_EQ(again->request.arguments, e->request.arguments);
  ASSERT_TRUE(test::wait_until([&] { return !again->live; }, 120000));
  EXPECT_EQ(again->status, db::JobStatus::kSucceeded) << again->error.toStdString();
}

TEST_F(JobsPanelTest, CancelCheckpointsAndStopsAndResumeContinues) {
  auto p = panel();
  fill_pretrain(p->form(), 500);
  p->form()->submit();
  const JobEntry* e = selected(*p);
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(test::wait_until([&] { return e->done >= 2 || !e->live; }, 120000));
  ASSERT_TRUE(e->live) << e->error.toStdString();
  p->cancelSelected();
  ASSERT_TRUE(test::wait_until([&] { return !e->live; }, 60000));
  EXPECT_EQ(e->status, db::JobStatus::kCancelled) << e->error.toStdString();
  ASSERT_FALSE(e->checkpoint.isEmpty());
  const fs::path checkpoint = fs::path(e->folder.toStdString()) / e->checkpoint.toStdString();
  EXPECT_TRUE(fs::exists(fs::path(e->checkpoint.toStdString()) / "model.safetensors") ||
              fs::exists(checkpoint / "model.safetensors"))
      << e->checkpoint.toStdString();
  EXPECT_EQ(doc_->project().job(e->job_id)->status, db::JobStatus::kCancelled);
  EXPECT_LT(e->done, 500);

  // Resume: the same row continues after the checkpoint's step.
  const qint64 stopped_at = e->done;
  const qint64 job_id = e->job_id;
  ASSERT_TRUE(p->manager()->canResume(p->selectedKey()));
  p->resumeSelected();
  ASSERT_TRUE(test::wait_until([&] { return e->done > stopped_at || !e->live; }, 120000));
  ASSERT_TRUE(e->live) << e->error.toStdString() << e->log.join('\n').toStdString();
  EXPECT_EQ(e->job_id, job_id);
  p->cancelSelected();
  ASSERT_TRUE(test::wait_until([&] { return !e->live; }, 60000));
  EXPECT_EQ(e->status, db::JobStatus::kCancelled);
  // Steps before and after the resume in the charts; no step lost.
  EXPECT_EQ(e->series.at("loss").begin()->first, 1);
  EXPECT_GT(e->series.at("loss").rbegin()->first, stopped_at);
}

TEST_F(JobsPanelTest, StudioOpenedAgainReattachesToARunningJob) {
  qint64 pid = 0, job_id = 0;
  int points_before = 0;
  {
    auto first = panel();
    fill_pretrain(first->form(), 500);
    first->form()->submit();
    const JobEntry* e = selected(*first);
    ASSERT_NE(e, nullptr);
    ASSERT_TRUE(test::wait_until([&] { return (e->done >= 2 && e->job_id > 0) || !e->live; }, 120000));
    ASSERT_TRUE(e->live) << e->error.toStdString();
    pid = e->pid;
    job_id = e->job_id;
  }
  doc_.reset();  // the studio closes: panel and document gone
  ASSERT_TRUE(job_process_alive(pid)) << "the job must outlive the studio";

  doc_ = open();
  auto second = panel();
  const JobEntry* e = selected(*second);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->job_id, job_id);
  EXPECT_EQ(e->pid, pid);
  EXPECT_TRUE(e->live);
  EXPECT_EQ(e->status, db::JobStatus::kRunning);
  QTest::qWait(200);
  points_before = second->charts()->pointCount("loss");
  EXPECT_GE(points_before, 2);  // the steps before the restart (job_metrics and the log)
  ASSERT_TRUE(test::wait_until([&] { return second->charts()->pointCount("loss") >= points_before + 2; },
                               60000));
  // The charts follow the job's series through the panel's 100 ms refresh, so a progress line
  // that has just arrived may not be drawn yet: wait for the next refresh, then compare.
  const auto charted = [&] {
    return second->charts()->pointCount("loss") == static_cast<int>(e->series.at("loss").size());
  };
  test::wait_until(charted, 5000);
  EXPECT_EQ(second->charts()->pointCount("loss"), static_cast<int>(e->series.at("loss").size()));
  EXPECT_FALSE(second->etaText().isEmpty());
  second->cancelSelected();
  ASSERT_TRUE(test::wait_until([&] { return !e->live; }, 60000));
  EXPECT_EQ(e->status, db::JobStatus::kCancelled);
}

TEST_F(JobsPanelTest, JobWhoseProcessDiedIsShownFailedWithItsLastLines) {
  const fs::path log = dir_ / "dead.jsonl";
  {
    std::ofstream out(log);
    out << R"({"event":"start","kind":"train","job_id":1,"total":100,"unit":"steps","time_ms":1})" << "\n"
        << R"({"event":"progress","done":1,"total":100,"step":1,"rate":1,"metrics":{"loss":9.5},"time_ms":2})" << "\n"
        << "Segmentation fault in the image decoder\n";
  }
  db::JobRecord job;
  job.kind = "train";
  const int64_t id = doc_->project().add_job(job).value();
  // This test's own pid: alive, but not a capfilt process, as after a reboot reused it.
  ASSERT_TRUE(doc_->project().update_job(id, db::JobStatus::kRunning, ::getpid(), 0.01).is_ok());
  ASSERT_TRUE(doc_->project().set_job_log_path(id, log.string()).is_ok());

  auto p = panel();
  const JobEntry* e = p->manager()->jobWithId(id);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->live);
  EXPECT_EQ(e->status, db::JobStatus::kFailed);
  p->selectJob(e->key);
  EXPECT_NE(p->statusText().indexOf("Segmentation fault"), -1) << p->statusText().toStdString();
  EXPECT_EQ(doc_->project().job(id)->status, db::JobStatus::kFailed);
  EXPECT_NE(doc_->project().job(id)->error.find("Segmentation fault"), std::string::npos);
  EXPECT_EQ(p->charts()->pointCount("loss"), 1);
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
