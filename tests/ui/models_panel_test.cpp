// The Models tab on a demo project with the real `capfilt`: importing Hugging Face weights (the
// tiny parity fixture) adds a model, choosing the project's captioner and filter is stored in the
// project, and an evaluation started from the panel stores its metrics with the model.

#include <QComboBox>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>

#include <filesystem>

#include "demo_project.h"
#include "ui/jobs/job_form.h"
#include "ui/jobs/job_manager.h"
#include "ui/jobs/job_process.h"
#include "ui/jobs/jobs_panel.h"
#include "ui/models/model_choice.h"
#include "ui/models/models_panel.h"
#include "ui/shared/project_document.h"
#include "ui_test_support.h"

#ifndef CAPFILT_PROGRAM
#error "CAPFILT_PROGRAM (the capfilt executable) must be defined by tests/CMakeLists.txt"
#endif

namespace capfilt::ui {
namespace {

namespace fs = std::filesystem;

class ModelsPanelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch("models_panel");
    path_ = test::build_demo_project(dir_ / "demo", 24);
    auto doc = ProjectDocument::open(QString::fromStdString(path_), "tester");
    ASSERT_TRUE(doc.is_ok()) << doc.status().message();
    doc_ = std::move(doc).value();
    doc_->setImagesRoot(QString::fromStdString((dir_ / "demo" / "data").string()));
    jobs_ = std::make_unique<JobsPanel>(doc_.get(), QString(CAPFILT_PROGRAM), nullptr, 50);
    models_ = std::make_unique<ModelsPanel>(doc_.get(), jobs_.get());
  }

  const JobEntry* run_to_end(int key) {
    const JobEntry* e = jobs_->manager()->job(key);
    EXPECT_NE(e, nullptr);
    if (!e) return nullptr;
    EXPECT_TRUE(test::wait_until([&] { return !e->live; }, 60000));
    QTest::qWait(200);
    return e;
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<JobsPanel> jobs_;
  std::unique_ptr<ModelsPanel> models_;
};

TEST_F(ModelsPanelTest, ListsModelsWithTheProjectsFilter) {
  ASSERT_EQ(models_->table()->rowCount(), 1);
  EXPECT_EQ(models_->table()->item(0, 2)->text(), "filter");
  EXPECT_NE(models_->table()->item(0, 3)->text().indexOf("filter"), -1);  // the newest filter
}

TEST_F(ModelsPanelTest, ImportWeightsAddsAModelAndChoicesAreStored) {
  EXPECT_EQ(models_->importWeights(QString::fromStdString((dir_ / "nothing").string())), 0);
  EXPECT_NE(models_->message().indexOf("not a Hugging Face BLIP folder"), -1);

  const std::string hf = std::string(capfilt::test::kTestDataDir) + "/blip-parity-tiny-vocab/itm";
  const int key = models_->importWeights(QString::fromStdString(hf));
  ASSERT_GT(key, 0) << models_->message().toStdString();
  const JobEntry* e = run_to_end(key);
  ASSERT_EQ(e->status, db::JobStatus::kSucceeded) << e->error.toStdString();
  EXPECT_EQ(doc_->project().job(e->job_id)->status, db::JobStatus::kSucceeded);
  EXPECT_EQ(doc_->project().job(e->job_id)->kind, "import-weights");

  auto models = doc_->project().models().value();
  ASSERT_EQ(models.size(), 2u);
  const db::ModelRecord& imported = models.back();
  EXPECT_EQ(imported.task, "filter");  // a retrieval (ITM + ITC) model
  EXPECT_TRUE(fs::exists(fs::path(imported.checkpoint_path) / "model.safetensors"));
  ASSERT_EQ(models_->table()->rowCount(), 2);

  // The imported model as the project's filter: stored in the project, shown in the table.
  models_->selectModel(imported.id);
  models_->useAsFilter();
  EXPECT_EQ(doc_->project().setting(db::kFilterSetting).value(), std::to_string(imported.id));
  EXPECT_EQ(chosen_filter(doc_->project()), imported.id);
  EXPECT_NE(models_->table()->item(1, 3)->text().indexOf("filter"), -1);
  EXPECT_EQ(models_->table()->item(0, 3)->text(), "");
  // The demo filter has scores but no folder: it cannot caption.
  models_->selectModel(models.front().id);
  models_->useAsCaptioner();
  EXPECT_NE(models_->message().indexOf("no checkpoint folder"), -1);
  EXPECT_EQ(doc_->project().setting(db::kCaptionerSetting).value(), "");
}

TEST_F(ModelsPanelTest, ImportThatEndsWhileTheStudioIsClosedIsRecordedOnReopening) {
  const std::string hf = std::string(capfilt::test::kTestDataDir) + "/blip-parity-tiny-vocab/itm";
  const int key = models_->importWeights(QString::fromStdString(hf));
  ASSERT_GT(key, 0) << models_->message().toStdString();
  const qint64 pid = jobs_->manager()->job(key)->pid;
  ASSERT_TRUE(test::wait_until([&] { return jobs_->manager()->job(key)->job_id > 0; }, 5000));
  models_.reset();  // the studio closes at once
  jobs_.reset();
  ASSERT_TRUE(test::wait_until([&] { return !job_process_alive(pid); }, 60000));
  EXPECT_EQ(doc_->project().models().value().size(), 1u);  // nobody registered it yet

  jobs_ = std::make_unique<JobsPanel>(doc_.get(), QString(CAPFILT_PROGRAM), nullptr, 50);
  models_ = std::make_unique<ModelsPanel>(doc_.get(), jobs_.get());
  QTest::qWait(100);
  models_->reload();
  const auto jobs = doc_->project().jobs().value();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs.front().status, db::JobStatus::kSucceeded) << jobs.front().error;
  ASSERT_EQ(doc_->project().models().value().size(), 2u);
  EXPECT_EQ(models_->table()->rowCount(), 2);
}

TEST_F(ModelsPanelTest, EvaluationFromThePanelStoresMetricsWithTheModel) {
  QSignalSpy asked(models_.get(), &ModelsPanel::evaluateRequested);
  models_->selectModel(1);
  QMetaObject::invokeMethod(models_->findChildren<QPushButton*>().last(), "click");
  ASSERT_EQ(asked.count(), 1);
  EXPECT_EQ(asked.first().first().toLongLong(), 1);

  JobForm* form = jobs_->form();
  form->prepareEvaluation(1);
  auto* kind = form->findChild<QComboBox*>("eval_kind");
  kind->setCurrentIndex(kind->findData("filter"));
  form->submit();
  EXPECT_NE(form->problems().indexOf("noise labels"), -1) << form->problems().toStdString();
  form->findChild<QLineEdit*>("eval_file")
      ->setText(QString::fromStdString((dir_ / "demo" / "data" / "ground-truth" / "noise_labels.json").string()));
  form->submit();
  ASSERT_EQ(form->problems(), "");
  const JobEntry* e = run_to_end(jobs_->selectedKey());
  ASSERT_EQ(e->status, db::JobStatus::kSucceeded) << e->error.toStdString() << e->log.join('\n').toStdString();
  EXPECT_FALSE(e->final_metrics.empty());
  const std::string metrics = doc_->project().model(1)->metrics_json;
  EXPECT_NE(metrics.find("eval_filter"), std::string::npos) << metrics;
  EXPECT_NE(models_->table()->item(0, 5)->text().indexOf("eval_filter"), -1);
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
