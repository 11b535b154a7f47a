#pragma once
// Shared by the studio's tests: a QApplication on the offscreen platform (each test file ends with
// CAPFILT_UI_TEST_MAIN()), a scratch folder, settings in an INI file, and a small scored project.

#include <gtest/gtest.h>

#include <QApplication>
#include <QImage>
#include <QSettings>
#include <QElapsedTimer>
#include <QString>
#include <QTest>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "db/project.h"
#include "test_paths.h"

namespace capfilt::ui::test {

// A clock that advances one second per read, so decision times differ and are predictable.
class StepClock final : public db::Clock {
 public:
  int64_t now_ms() const override { return 1'700'000'000'000 + 1000 * ticks_++; }

 private:
  mutable std::atomic<int64_t> ticks_{0};
};

// Runs the event loop until `done()` or `timeout_ms`; whether it happened. (QTRY_* report to
// QTest, not to GoogleTest, so they cannot fail a test here.)
template <typename Pred>
bool wait_until(Pred done, int timeout_ms = 5000) {
  QElapsedTimer timer;
  timer.start();
  while (!done()) {
    if (timer.elapsed() > timeout_ms) return false;
    QTest::qWait(5);
  }
  return true;
}

inline std::filesystem::path scratch(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(capfilt::test::kScratchDir) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Where screenshots go: <build>/tests/ui-screenshots.
inline std::filesystem::path screenshot_dir() {
  std::filesystem::path dir =
      std::filesystem::path(capfilt::test::kScratchDir).parent_path().parent_path() / "ui-screenshots";
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::unique_ptr<QSettings> scratch_settings(const std::filesystem::path& dir) {
  return std::make_unique<QSettings>(QString::fromStdString((dir / "studio.ini").string()),
                                     QSettings::IniFormat);
}

// `n` images img_000.png.. (written under dir/images when `write_images`), each with a web and a
// synthetic caption, scored by one model: web ITM (k*37 % 100)/100, synthetic 0.5 + (k % 50)/100.
// Caption ids: web of image k is 2k+1, synthetic 2k+2 (inserted in that order).
inline void fill_project(db::Project& project, int n, const std::filesystem::path& dir,
                         bool write_images) {
  std::vector<db::ImageWithCaptions> batch;
  for (int k = 0; k < n; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "img_%03d.png", k);
    db::ImageWithCaptions item;
    item.image.path = name;
    item.image.split = k % 10 == 0 ? "val" : "train";
    item.captions.push_back({"a web caption number " + std::to_string(k), db::CaptionSource::kWeb, 0});
    item.captions.push_back(
        {"a synthetic caption of shape " + std::to_string(k), db::CaptionSource::kSynthetic, 0});
    batch.push_back(item);
    if (write_images) {
      std::filesystem::create_directories(dir / "images");
      QImage image(64, 48, QImage::Format_RGB32);
      image.fill(QColor::fromHsv((k * 29) % 360, 160, 220));
      image.save(QString::fromStdString((dir / "images" / name).string()));
    }
  }
  ASSERT_TRUE(project.insert_pairs(batch).is_ok());
  db::ModelRecord model;
  model.name = "filter";
  model.task = "filter";
  auto model_id = project.add_model(model);
  ASSERT_TRUE(model_id.is_ok());
  std::vector<db::Score> scores;
  for (int k = 0; k < n; ++k) {
    scores.push_back({2 * k + 1, *model_id, (k * 37 % 100) / 100.0, 0.1 + (k % 7) / 20.0});
    scores.push_back({2 * k + 2, *model_id, 0.5 + (k % 50) / 100.0, 0.3 + (k % 5) / 20.0});
  }
  ASSERT_TRUE(project.put_scores(scores).is_ok());
}

}  // namespace capfilt::ui::test

// main() of a studio test: the offscreen platform, a QApplication, then every test.
#define CAPFILT_UI_TEST_MAIN()                                   \
  int main(int argc, char** argv) {                              \
    qputenv("QT_QPA_PLATFORM", "offscreen");                     \
    ::testing::InitGoogleTest(&argc, argv);                      \
    QApplication app(argc, argv);                                \
    return RUN_ALL_TESTS();                                      \
  }
