// The window's undo keys reach every view: a decision made by keyboard in Review is undone with
// Ctrl+Z from Browse (one undo stack per project; the window owns the key, so it is never
// ambiguous between views).

#include <QApplication>
#include <QTabWidget>
#include <QTableView>
#include <QUndoStack>

#include "ui/browse/browse_view.h"
#include "ui/browse/pair_table_model.h"
#include "ui/review/review_view.h"
#include "ui/shared/main_window.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

TEST(MainWindow, UndoFromBrowseTakesBackAReviewDecision) {
  const std::filesystem::path dir = test::scratch("window");
  const std::string path = (dir / "p.capfilt").string();
  {
    auto project = db::Project::open(path);
    ASSERT_TRUE(project.is_ok());
    test::fill_project(*project.value(), 10, dir, true);
  }
  auto store = test::scratch_settings(dir);
  StudioSettings settings(store.get());
  settings.setCurator("gus");
  settings.setImagesRoot(QString::fromStdString(path), QString::fromStdString((dir / "images").string()));
  MainWindow::Options options;
  options.thumbnail_dir = QString::fromStdString((dir / "thumbs").string());
  MainWindow window(&settings, options);
  ASSERT_TRUE(window.openProject(QString::fromStdString(path), false, true));
  window.show();
  QApplication::setActiveWindow(&window);
  ASSERT_TRUE(QTest::qWaitForWindowActive(&window));

  window.tabs()->setCurrentWidget(window.review());
  window.review()->setFocus();
  QTest::keyClick(window.review(), Qt::Key_D);
  EXPECT_EQ(window.document()->project().pair(1)->decision, db::Decision::kDrop);
  EXPECT_TRUE(window.statusText().contains("1 dropped")) << window.statusText().toStdString();

  window.tabs()->setCurrentWidget(window.browse());
  window.browse()->table()->setFocus();
  QTest::keyClick(window.browse()->table(), Qt::Key_Z, Qt::ControlModifier);
  EXPECT_EQ(window.document()->project().pair(1)->decision, db::Decision::kUndecided);
  EXPECT_EQ(window.document()->undoStack()->index(), 0);

  window.tabs()->setCurrentWidget(window.review());
  window.review()->setFocus();
  QTest::keyClick(window.review(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  EXPECT_EQ(window.document()->project().pair(1)->decision, db::Decision::kDrop);
  auto log = window.document()->project().decision_log();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_NE(log->at(0).undone_ms, 0);
  EXPECT_EQ(log->at(1).curator, "gus");
}

TEST(MainWindow, ActivatingARowInBrowseReviewsThatPair) {
  const std::filesystem::path dir = test::scratch("window-jump");
  const std::string path = (dir / "p.capfilt").string();
  {
    auto project = db::Project::open(path);
    ASSERT_TRUE(project.is_ok());
    test::fill_project(*project.value(), 300, dir, false);
  }
  auto store = test::scratch_settings(dir);
  StudioSettings settings(store.get());
  MainWindow::Options options;
  options.thumbnail_dir = QString::fromStdString((dir / "thumbs").string());
  MainWindow window(&settings, options);
  ASSERT_TRUE(window.openProject(QString::fromStdString(path), false, true));
  // Synthetic caption of img_217 (id 2*217+2), found among 600 path-ordered pairs.
  BrowseView* browse = window.browse();
  browse->setSearchText("217");
  ASSERT_EQ(browse->countText(), QStringLiteral("2 matching pairs"));
  const QModelIndex second = browse->model()->index(1, 0);
  browse->model()->captionIdAt(1);  // its page, as a view would have it painted
  Q_EMIT browse->table()->activated(second);
  EXPECT_EQ(window.tabs()->currentWidget(), window.review());
  ASSERT_NE(window.review()->currentPair(), nullptr);
  EXPECT_EQ(window.review()->currentPair()->caption_id, 2 * 217 + 2);
  EXPECT_EQ(window.review()->position(), 2 * 217 + 1);
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
