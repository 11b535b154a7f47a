// "Open the demo project" runs `capfilt demo-project DIR --json` as a child process and follows its
// JSON-lines progress; a child that fails (or a capfilt without the subcommand) shows its stderr.

#include <QApplication>
#include <QFile>
#include <QSignalSpy>

#include "demo_project.h"
#include "ui/shared/main_window.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui/start/demo_project_runner.h"
#include "ui/start/start_page.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

QString write_script(const std::filesystem::path& file, const std::string& body) {
  QFile f(QString::fromStdString(file.string()));
  EXPECT_TRUE(f.open(QIODevice::WriteOnly));
  f.write(("#!/bin/sh\n" + body).c_str());
  f.close();
  f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
  return f.fileName();
}

TEST(StartPage, DemoProjectIsBuiltByTheChildProcessThenOpened) {
  const std::filesystem::path dir = test::scratch("start-ok");
  const std::string made = test::build_demo_project(dir / "made", 20);
  // A stand-in for `capfilt demo-project DIR --json`: progress lines, then the project in DIR.
  const QString program = write_script(
      dir / "capfilt",
      "[ \"$1\" = demo-project ] || exit 2\n"
      "echo '{\"event\":\"start\",\"time_ms\":1,\"kind\":\"demo-project\",\"job_id\":0,\"total\":3,\"unit\":\"steps\"}'\n"
      "echo 'a stray line that is not JSON'\n"
      "echo '{\"event\":\"progress\",\"time_ms\":2,\"done\":2,\"total\":3}'\n"
      "cp '" + made + "' \"$2/demo.capfilt\"\n"
      "echo '{\"event\":\"finished\",\"time_ms\":3,\"status\":\"succeeded\",\"text\":\"ready\"}'\n");
  auto store = test::scratch_settings(dir);
  StudioSettings settings(store.get());
  settings.setCurator("erin");
  MainWindow::Options options;
  options.thumbnail_dir = QString::fromStdString((dir / "thumbs").string());
  options.capfilt_program = program;
  options.demo_dir = QString::fromStdString((dir / "demo").string());
  MainWindow window(&settings, options);
  window.openDemo();
  ASSERT_TRUE(test::wait_until([&] { return window.document() != nullptr; }, 10000))
      << window.startPage()->messageText().toStdString();
  EXPECT_TRUE(window.document()->path().endsWith("demo/demo.capfilt"));
  EXPECT_EQ(settings.recentProjects().value(0), window.document()->path());
  // A second time the child runs again (it returns at once for a finished project, and finishes
  // an interrupted one) and the project opens.
  window.closeProject();
  window.openDemo();
  EXPECT_TRUE(test::wait_until([&] { return window.document() != nullptr; }, 10000));
}

TEST(StartPage, AFailingChildShowsItsErrorOutput) {
  const std::filesystem::path dir = test::scratch("start-fail");
  const QString program = write_script(
      dir / "capfilt",
      "echo 'The following argument was not expected: demo-project' >&2\nexit 109\n");
  auto store = test::scratch_settings(dir);
  StudioSettings settings(store.get());
  MainWindow::Options options;
  options.thumbnail_dir = QString::fromStdString((dir / "thumbs").string());
  options.capfilt_program = program;
  options.demo_dir = QString::fromStdString((dir / "demo").string());
  MainWindow window(&settings, options);
  window.openDemo();
  ASSERT_TRUE(test::wait_until(
      [&] { return window.startPage()->messageText().contains("not expected"); }, 10000))
      << window.startPage()->messageText().toStdString();
  EXPECT_TRUE(window.startPage()->messageText().contains("exit code 109"));
  EXPECT_EQ(window.document(), nullptr);
}

TEST(StartPage, AMissingProgramIsNamed) {
  const std::filesystem::path dir = test::scratch("start-missing");
  DemoProjectRunner runner;
  QSignalSpy failed(&runner, &DemoProjectRunner::failed);
  runner.start(QString::fromStdString((dir / "no-such-capfilt").string()),
               QString::fromStdString((dir / "demo").string()));
  ASSERT_TRUE(test::wait_until([&] { return failed.count() > 0; }));
  EXPECT_TRUE(failed.at(0).at(0).toString().contains("no-such-capfilt"));
}

TEST(StartPage, ProgressSaysWhichPartIsBuiltWithTheLossButNotEveryTerm) {
  core::ProgressEvent e;
  e.stage = "models: pretrain";
  e.step = 130;
  e.done = 130;
  e.total = 500;
  e.eta_s = 165;
  e.metrics = {{"loss", 8.179}, {"loss_itc", 4.899}, {"grad_norm", 3.472}, {"lr", 8.9e-4}};
  const QString text = DemoProjectRunner::describe(e);
  EXPECT_EQ(text.toStdString(),
            "Training the demo models, 1 of 3: pre-training on the web pairs — step 130 of 500, "
            "ETA 2 min 45 s, loss 8.18");

  core::ProgressEvent c;
  c.stage = "capfilt";
  c.done = 64;
  c.total = 1500;
  EXPECT_EQ(DemoProjectRunner::describe(c).toStdString(),
            "CapFilt: captioning the images and scoring their captions — 64 of 1500");
  c.stage = "import web_train.json";
  EXPECT_TRUE(DemoProjectRunner::describe(c).startsWith("Importing web_train.json — 64 of 1500"));
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
