// Renders the start page and every view of the studio on a demo project under the offscreen
// platform into <build>/tests/ui-screenshots/*.png (the README links three of them), and checks
// that each file is a real, non-blank image.

#include <QApplication>
#include <QImage>
#include <QSettings>

#include "demo_project.h"
#include "ui/shared/main_window.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

TEST(Screenshots, EveryViewOfTheDemoProject) {
  const std::filesystem::path out = test::screenshot_dir();
  const std::filesystem::path scratch = test::scratch("screenshots");
  const std::string project = test::build_demo_project(out / "demo-project");
  auto store = test::scratch_settings(scratch);
  StudioSettings settings(store.get());
  settings.setCurator("alice");
  MainWindow::Options options;
  options.thumbnail_dir = QString::fromStdString((scratch / "thumbs").string());
  MainWindow window(&settings, options);
  ASSERT_TRUE(window.openProject(QString::fromStdString(project), false, true));
  window.resize(1280, 800);
  window.show();
  const QStringList files = window.saveScreenshots(QString::fromStdString(out.string()));
  for (const char* name : {"start", "review", "browse", "thresholds", "review-help", "shortcuts"}) {
    const QString file = QString::fromStdString((out / (std::string(name) + ".png")).string());
    EXPECT_TRUE(files.contains(file)) << name;
    QImage image(file);
    ASSERT_FALSE(image.isNull()) << name;
    EXPECT_GT(image.width(), 200) << name;
    // Not blank: the image holds more than a handful of colours.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
      for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    EXPECT_GT(colours.size(), 8) << name;
  }
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
