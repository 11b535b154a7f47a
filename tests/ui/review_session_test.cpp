// A review session driven by key events, as a curator's hands would: next, keep, drop, swap to the
// synthetic caption, edit, undo, redo, accept the proposal. The result is asserted on the decision
// log, not on widgets.

#include <QAction>
#include <QApplication>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>

#include "core/thumbnails.h"
#include "ui/review/caption_scorer.h"
#include "ui/review/review_view.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui/shared/thumbnail_loader.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

struct Row {
  int64_t caption;
  db::Decision decision;
  bool undone;
};

class ReviewSession : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch("review");
    settings_store_ = test::scratch_settings(dir_);
    settings_ = std::make_unique<StudioSettings>(settings_store_.get());
    settings_->setCurator("alice");
    ProjectDocument::Options options;
    options.clock = &clock_;
    auto doc = ProjectDocument::open(QString::fromStdString((dir_ / "p.capfilt").string()),
                                     settings_->curator(), true, options);
    ASSERT_TRUE(doc.is_ok()) << doc.status().message();
    document_ = std::move(doc.value());
    test::fill_project(document_->project(), 6, dir_, true);
    document_->setImagesRoot(QString::fromStdString((dir_ / "images").string()));
    cache_ = std::make_unique<core::ThumbnailCache>(dir_ / "thumbs");
    images_ = std::make_unique<ThumbnailLoader>(
        cache_.get(), 256, [this](const QString& p) { return document_->absoluteImagePath(p); });
    view_ = std::make_unique<ReviewView>(document_.get(), settings_.get(), images_.get());
    view_->resize(1000, 700);
    view_->show();
    QApplication::setActiveWindow(view_.get());
    ASSERT_TRUE(QTest::qWaitForWindowActive(view_.get()));
    view_->setFocus();
  }

  void key(int k, Qt::KeyboardModifiers mods = Qt::NoModifier) {
    QWidget* target = QApplication::focusWidget() ? QApplication::focusWidget() : view_.get();
    QTest::keyClick(target, static_cast<Qt::Key>(k), mods);
  }
  int64_t current() { return view_->currentPair() ? view_->currentPair()->caption_id : -1; }

  std::vector<Row> log() {
    auto entries = document_->project().decision_log();
    EXPECT_TRUE(entries.is_ok());
    std::vector<Row> rows;
    for (const auto& e : *entries) {
      EXPECT_EQ(e.origin, db::DecisionOrigin::kCurator);
      EXPECT_EQ(e.curator, "alice");
      rows.push_back({e.caption_id, e.decision, e.undone_ms != 0});
      if (e.undone_ms != 0) {
        EXPECT_EQ(e.undone_by, "alice");
      }
    }
    return rows;
  }

  void TearDown() override {
    view_.reset();
    images_.reset();
    document_.reset();
  }

  test::StepClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<QSettings> settings_store_;
  std::unique_ptr<StudioSettings> settings_;
  std::unique_ptr<ProjectDocument> document_;
  std::unique_ptr<core::ThumbnailCache> cache_;
  std::unique_ptr<ThumbnailLoader> images_;
  std::unique_ptr<ReviewView> view_;
};

using D = db::Decision;

TEST_F(ReviewSession, KeyboardSessionWritesExactlyTheExpectedLog) {
  ASSERT_EQ(view_->pairCount(), 12);
  ASSERT_EQ(current(), 1);  // web caption of img_000
  key(Qt::Key_K);           // keep #1, auto-advance to #2
  EXPECT_EQ(current(), 2);
  key(Qt::Key_Right);  // #3, web of img_001
  EXPECT_EQ(current(), 3);
  key(Qt::Key_D);  // drop #3 -> #4
  EXPECT_EQ(current(), 4);
  key(Qt::Key_Right);  // #5, web of img_002
  key(Qt::Key_S);      // drop web #5, keep synthetic #6 -> #6
  EXPECT_EQ(current(), 6);
  key(Qt::Key_Left);  // back to #5
  EXPECT_EQ(current(), 5);
  key(Qt::Key_E);  // edit: the inline editor takes the keys
  ASSERT_TRUE(view_->editing());
  QLineEdit* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
  ASSERT_NE(editor, nullptr);
  editor->clear();
  QTest::keyClicks(editor, "a red circle on grey");  // 'd' and 'k' are typed, not shortcuts
  key(Qt::Key_Return);
  EXPECT_FALSE(view_->editing());
  EXPECT_EQ(current(), 5);                         // editing does not move on
  key(Qt::Key_Z, Qt::ControlModifier);             // undo the edit
  key(Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);  // redo it
  key(Qt::Key_T);  // auto-advance off
  EXPECT_FALSE(settings_->autoAdvance());
  key(Qt::Key_A);  // accept the proposal for #5: ITM 0.74 >= 0.5 -> keep
  EXPECT_EQ(current(), 5);

  const std::vector<Row> expected = {
      {1, D::kKeep, false},  {3, D::kDrop, false},  {5, D::kDrop, false},
      {6, D::kKeep, false},  {13, D::kKeep, true},  {5, D::kDrop, true},
      {13, D::kKeep, false}, {5, D::kDrop, false},  {5, D::kKeep, false},
  };
  const std::vector<Row> rows = log();
  ASSERT_EQ(rows.size(), expected.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(rows[k].caption, expected[k].caption) << "row " << k;
    EXPECT_EQ(rows[k].decision, expected[k].decision) << "row " << k;
    EXPECT_EQ(rows[k].undone, expected[k].undone) << "row " << k;
  }
  auto human = document_->project().pair(13);
  ASSERT_TRUE(human.is_ok());
  EXPECT_EQ(human->caption.text, "a red circle on grey");
  EXPECT_EQ(human->caption.source, db::CaptionSource::kHuman);
  EXPECT_TRUE(document_->project().check().is_ok());
}

TEST_F(ReviewSession, UndoReturnsCaptionsToUndecidedThroughTheLog) {
  key(Qt::Key_Right, Qt::NoModifier);
  key(Qt::Key_Right);
  key(Qt::Key_Right);
  key(Qt::Key_Right);  // #5
  key(Qt::Key_S);
  key(Qt::Key_Z, Qt::ControlModifier);
  EXPECT_EQ(document_->project().pair(5)->decision, D::kUndecided);
  EXPECT_EQ(document_->project().pair(6)->decision, D::kUndecided);
  key(Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  EXPECT_EQ(document_->project().pair(5)->decision, D::kDrop);
  EXPECT_EQ(document_->project().pair(6)->decision, D::kKeep);
  EXPECT_EQ(log().size(), 4u);
}

TEST_F(ReviewSession, HelpOverlayTogglesWithQuestionMark) {
  EXPECT_FALSE(view_->helpVisible());
  QTest::keyClick(view_.get(), '?');
  EXPECT_TRUE(view_->helpVisible());
  QTest::keyClick(view_.get(), '?');
  EXPECT_FALSE(view_->helpVisible());
}

TEST_F(ReviewSession, ReboundShortcutPersistsAndDecides) {
  settings_->setShortcut("review.keep", QKeySequence(Qt::Key_Y));
  settings_store_->sync();
  QSettings reread(settings_store_->fileName(), QSettings::IniFormat);
  StudioSettings again(&reread);
  EXPECT_EQ(again.shortcut("review.keep", QKeySequence(Qt::Key_K)), QKeySequence(Qt::Key_Y));
  view_->reloadShortcuts();
  key(Qt::Key_K);  // no longer bound
  EXPECT_TRUE(log().empty());
  key(Qt::Key_Y);
  ASSERT_EQ(log().size(), 1u);
  EXPECT_EQ(log()[0].decision, D::kKeep);
}

TEST_F(ReviewSession, AnEditedCaptionIsScoredOffTheGuiThread) {
  std::atomic<int> calls{0};
  std::string seen_file;
  CaptionScorer scorer(
      document_.get(),
      [&](const std::string& file, const std::string& text) -> Result<std::pair<double, double>> {
        ++calls;
        seen_file = file;
        EXPECT_EQ(text, "two blue squares");
        return std::make_pair(0.81, 0.42);
      },
      /*model_id=*/1);
  QSignalSpy scored(&scorer, &CaptionScorer::scored);
  key(Qt::Key_E);
  QLineEdit* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
  ASSERT_NE(editor, nullptr);
  editor->clear();
  QTest::keyClicks(editor, "two blue squares");
  key(Qt::Key_Return);
  ASSERT_TRUE(test::wait_until([&] { return scored.count() == 1; }));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_NE(seen_file.find("images/img_000.png"), std::string::npos) << seen_file;
  auto human = document_->project().pair(13);
  ASSERT_TRUE(human.is_ok());
  ASSERT_TRUE(human->itm.has_value());
  EXPECT_DOUBLE_EQ(*human->itm, 0.81);
  EXPECT_DOUBLE_EQ(*human->itc, 0.42);
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
