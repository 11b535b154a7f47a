// capfilt-studio: the desktop studio. Only argument parsing and wiring; the studio is ui/.

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QInputDialog>
#include <QSettings>
#include <QStandardPaths>
#include <QTextStream>
#include <QTimer>

#include "app/build_info.h"
#include "app/studio/engine_scorer.h"
#include "ui/shared/main_window.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("CapFilt");
  QApplication::setApplicationName("capfilt-studio");
  QApplication::setApplicationVersion(CAPFILT_VERSION);

  QCommandLineParser parser;
  parser.setApplicationDescription("CapFilt Studio: review CapFilt's keep/drop proposals by keyboard");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("project", "project file (.capfilt) to open");
  const QCommandLineOption demo("demo", "open the demo project (built by `capfilt demo-project` the first time)");
  const QCommandLineOption demo_dir("demo-dir", "where the demo project is built", "dir");
  const QCommandLineOption capfilt("capfilt", "the capfilt executable (default: beside this one)", "path");
  const QCommandLineOption curator("curator", "curator name recorded with every decision", "name");
  const QCommandLineOption images("images-root", "folder the project's image paths are relative to", "dir");
  const QCommandLineOption screenshot("screenshot", "render every view to DIR/*.png and exit", "dir");
  parser.addOptions({demo, demo_dir, capfilt, curator, images, screenshot});
  parser.process(app);

  QSettings store;
  capfilt::ui::StudioSettings settings(&store);
  if (parser.isSet(curator)) settings.setCurator(parser.value(curator));

  capfilt::ui::MainWindow::Options options;
  options.thumbnail_dir =
      QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)).filePath("thumbnails");
  options.demo_dir = parser.isSet(demo_dir)
                         ? parser.value(demo_dir)
                         : QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
                               .filePath("demo");
  options.capfilt_program = parser.value(capfilt);
  // The shipped vocabulary: installed beside the program, else the source tree's resources/.
  QString vocab = QDir(QApplication::applicationDirPath())
                      .filePath("../share/capfilt/bert-base-uncased/vocab.txt");
  if (!QFileInfo::exists(vocab)) vocab = CAPFILT_SOURCE_RESOURCES_DIR "/bert-base-uncased/vocab.txt";
  options.vocab_path = vocab;
  options.scorer_for_model = [vocab = vocab.toStdString()](const std::string& model_path) {
    return capfilt::app::engine_scorer(model_path, vocab);
  };
  capfilt::ui::MainWindow window(&settings, options);

  const QStringList positional = parser.positionalArguments();
  if (!positional.isEmpty()) {
    if (parser.isSet(images)) settings.setImagesRoot(QDir(positional.first()).absolutePath(), parser.value(images));
    if (!window.openProject(QDir(positional.first()).absolutePath(), false, parser.isSet(screenshot)))
      return parser.isSet(screenshot) ? 1 : app.exec();
  } else if (parser.isSet(demo)) {
    window.openDemo();
  }

  if (parser.isSet(screenshot)) {
    window.resize(1280, 800);
    window.show();
    const QStringList files = window.saveScreenshots(parser.value(screenshot));
    QTextStream out(stdout);
    for (const QString& f : files) out << f << "\n";
    return files.isEmpty() ? 1 : 0;
  }

  window.show();
  if (settings.curator().isEmpty()) {
    // First run: every decision carries the curator's name.
    QTimer::singleShot(0, &window, [&] {
      bool ok = false;
      QString name = QInputDialog::getText(&window, "Curator", "Your name, recorded with every decision:",
                                           QLineEdit::Normal, qEnvironmentVariable("USER"), &ok)
                         .trimmed();
      if (!ok || name.isEmpty()) name = qEnvironmentVariable("USER", "curator");
      settings.setCurator(name);
      if (window.document()) window.document()->setCurator(name);
    });
  }
  return app.exec();
}
