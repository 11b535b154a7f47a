// Not a test: shows the studio's Caption & VQA tab on a demo project in a real window, drives it
// (caption, a typed caption with its Grad-CAM on one word, a question with candidate answers) and
// saves the window to a PNG, for the README's screenshot. Run it under a display (xvfb-run):
//   demo_screenshot PROJECT DEMO_DIR IMAGE OUT.png [WORD] [QUESTION] [CANDIDATES]
// DEMO_DIR is the folder `capfilt demo-project` built (its models/ hold the demo models).

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QPushButton>
#include <QTabWidget>
#include <QTest>
#include <QTextStream>

#include "test_paths.h"
#include "ui/demo/ask_panel.h"
#include "ui/demo/caption_panel.h"
#include "ui/demo/demo_view.h"
#include "ui/demo/demo_worker.h"
#include "ui/demo/match_panel.h"
#include "ui/shared/engine_cache.h"
#include "ui/shared/main_window.h"
#include "ui/shared/model_selector.h"
#include "ui/shared/studio_settings.h"

namespace {

template <typename Pred>
bool wait_until(Pred done, int timeout_ms) {
  QElapsedTimer timer;
  timer.start();
  while (!done()) {
    if (timer.elapsed() > timeout_ms) return false;
    QTest::qWait(20);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QTextStream err(stderr);
  const QStringList args = app.arguments();
  if (args.size() < 5) {
    err << "usage: demo_screenshot PROJECT DEMO_DIR IMAGE OUT.png [WORD] [QUESTION] [CANDIDATES]\n";
    return 2;
  }
  QSettings store(QDir::temp().filePath("demo_screenshot.ini"), QSettings::IniFormat);
  capfilt::ui::StudioSettings settings(&store);
  settings.setCurator("demo");
  capfilt::ui::MainWindow::Options options;
  options.thumbnail_dir = QDir::temp().filePath("demo_screenshot_thumbs");
  options.demo_dir = args[2];
  options.vocab_path = QString(capfilt::test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
  capfilt::ui::MainWindow window(&settings, options);
  window.resize(1400, 860);
  window.show();
  if (!window.openProject(args[1])) return 1;
  capfilt::ui::DemoView* demo = window.demo();
  window.tabs()->setCurrentWidget(demo);
  auto* engines = window.engines();
  const auto ready = [&] {
    return engines->engine(demo->captioner()->currentPath()) &&
           engines->engine(demo->scorer()->currentPath()) && !demo->imagePath().isEmpty() &&
           !demo->worker()->busy();
  };
  demo->openImage(args[3]);
  if (!wait_until(ready, 120000)) {
    err << "not ready: " << demo->statusText() << "\n";
    return 1;
  }
  demo->captionPanel()->captionButton()->click();
  wait_until([&] { return !demo->captionPanel()->captions().empty(); }, 60000);
  demo->worker()->waitForIdle();
  const auto captions = demo->captionPanel()->captions();
  demo->matchPanel()->setText(QString::fromStdString(captions.front().text));
  QTest::qWait(demo->matchPanel()->debounceMs() + 50);
  demo->worker()->waitForIdle();
  if (args.size() > 5) demo->matchPanel()->selectWord(args[5]);
  if (args.size() > 6) {
    demo->askPanel()->setQuestion(args[6]);
    if (args.size() > 7) demo->askPanel()->setCandidates(args[7]);
    demo->askPanel()->askButton()->click();
    demo->worker()->waitForIdle();
  }
  QTest::qWait(300);
  if (!window.grab().save(args[4])) return 1;
  QTextStream(stdout) << args[4] << "\n" << demo->statusText() << "\n";
  // Stay up a moment so the X screen can be captured from outside too (import -window root).
  QTest::qWait(qEnvironmentVariableIntValue("DEMO_SCREENSHOT_HOLD_MS"));
  return 0;
}
