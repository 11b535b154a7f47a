// The browse table: a correct item model (QAbstractItemModelTester) that fetches pages on demand,
// filters with the count of matching pairs, thumbnails off the GUI thread with a placeholder that
// names a missing file, and bulk decisions as one undo step — undone from another view.

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QUndoStack>

#include "core/thumbnails.h"
#include "ui/browse/browse_view.h"
#include "ui/browse/pair_table_model.h"
#include "ui/review/review_view.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui/shared/thumbnail_loader.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

class Browse : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch("browse");
    auto doc = ProjectDocument::open(QString::fromStdString((dir_ / "p.capfilt").string()), "bob", true);
    ASSERT_TRUE(doc.is_ok()) << doc.status().message();
    document_ = std::move(doc.value());
    test::fill_project(document_->project(), 250, dir_, false);
    document_->setImagesRoot(QString::fromStdString((dir_ / "images").string()));
    cache_ = std::make_unique<core::ThumbnailCache>(dir_ / "thumbs");
    thumbs_ = std::make_unique<ThumbnailLoader>(
        cache_.get(), 64, [this](const QString& p) { return document_->absoluteImagePath(p); });
  }
  void TearDown() override {
    thumbs_.reset();
    document_.reset();
  }

  std::filesystem::path dir_;
  std::unique_ptr<ProjectDocument> document_;
  std::unique_ptr<core::ThumbnailCache> cache_;
  std::unique_ptr<ThumbnailLoader> thumbs_;
};

TEST_F(Browse, ModelPassesTheTesterThroughSortsFiltersAndRefreshes) {
  PairTableModel model(document_.get(), thumbs_.get());
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  EXPECT_EQ(model.rowCount(), 500);
  EXPECT_EQ(model.columnCount(), PairTableModel::kColumnCount);
  model.sort(PairTableModel::kItm, Qt::DescendingOrder);
  db::PairFilter web;
  web.sources = {db::CaptionSource::kWeb};
  model.setFilter(web);
  EXPECT_EQ(model.rowCount(), 250);
  document_->decide({{1, db::Decision::kDrop, db::DecisionOrigin::kCurator, {}, {}}}, "drop");
  model.fetchPending();
  db::PairFilter none;
  none.text_query = "nosuchword";
  model.setFilter(none);
  EXPECT_EQ(model.rowCount(), 0);
}

TEST_F(Browse, PagesAreFetchedOnlyWhenAsked) {
  PairTableModel model(document_.get(), nullptr);
  EXPECT_EQ(model.pageFetches(), 1);  // the first page, which also counts the pairs
  const QModelIndex deep = model.index(420, PairTableModel::kCaption);
  EXPECT_EQ(model.data(deep, Qt::DisplayRole).toString(), QStringLiteral("…"));
  EXPECT_TRUE(test::wait_until([&] {
    return model.data(deep, Qt::DisplayRole).toString() == QStringLiteral("a web caption number 210");
  })) << model.data(deep, Qt::DisplayRole).toString().toStdString();
  EXPECT_EQ(model.pageFetches(), 2);
}

TEST_F(Browse, FilterShowsTheCountOfMatchingPairs) {
  BrowseView view(document_.get(), thumbs_.get());
  EXPECT_EQ(view.countText(), QStringLiteral("500 matching pairs"));
  view.setSourceFilter(1);
  EXPECT_EQ(view.countText(), QStringLiteral("250 matching pairs"));
  view.setSearchText("number");
  EXPECT_EQ(view.countText(), QStringLiteral("250 matching pairs"));
  view.setSearchText("shape");
  EXPECT_EQ(view.countText(), QStringLiteral("0 matching pairs"));
}

TEST_F(Browse, ThumbnailsArriveByQueuedSignalAndMissingFilesAreNamed) {
  std::filesystem::create_directories(dir_ / "images");
  QImage image(80, 40, QImage::Format_RGB32);
  image.fill(Qt::red);
  ASSERT_TRUE(image.save(QString::fromStdString((dir_ / "images" / "img_000.png").string())));
  QSignalSpy ready(thumbs_.get(), &ThumbnailLoader::ready);
  const QPixmap first = thumbs_->pixmap("img_000.png");
  EXPECT_TRUE(thumbs_->isPending("img_000.png"));
  thumbs_->pixmap("img_001.png");  // no such file
  ASSERT_TRUE(test::wait_until([&] { return ready.count() == 2; }));
  const QPixmap made = thumbs_->pixmap("img_000.png");
  EXPECT_EQ(made.width(), 64);
  EXPECT_EQ(made.height(), 32);
  EXPECT_TRUE(thumbs_->error("img_000.png").isEmpty());
  EXPECT_TRUE(thumbs_->error("img_001.png").contains("img_001.png")) << thumbs_->error("img_001.png").toStdString();
}

TEST_F(Browse, BulkDropIsOneUndoStepUndoneFromTheReviewView) {
  QSettings store(QString::fromStdString((dir_ / "s.ini").string()), QSettings::IniFormat);
  StudioSettings settings(&store);
  BrowseView browse(document_.get(), thumbs_.get());
  ReviewView review(document_.get(), &settings, thumbs_.get());
  browse.setSourceFilter(1);
  browse.setDecisionFilter(1);
  QString asked;
  browse.setConfirm([&](const QString& q) { asked = q; return true; });
  browse.bulkDecide(db::Decision::kDrop, /*all_matching=*/true);
  EXPECT_TRUE(asked.contains("250")) << asked.toStdString();
  EXPECT_EQ(document_->undoStack()->count(), 1);
  EXPECT_EQ(document_->project().decision_counts()->drop, 250);
  EXPECT_EQ(browse.countText(), QStringLiteral("0 matching pairs"));  // none undecided left

  review.show();
  QApplication::setActiveWindow(&review);
  ASSERT_TRUE(QTest::qWaitForWindowActive(&review));
  review.setFocus();
  QTest::keyClick(&review, Qt::Key_Z, Qt::ControlModifier);
  EXPECT_EQ(document_->project().decision_counts()->drop, 0);
  EXPECT_EQ(browse.countText(), QStringLiteral("250 matching pairs"));
  EXPECT_TRUE(document_->project().check().is_ok());
}

TEST_F(Browse, KeyboardRangeSelectionDroppedInOneStep) {
  BrowseView browse(document_.get(), thumbs_.get());
  browse.resize(900, 600);
  browse.show();
  QApplication::setActiveWindow(&browse);
  ASSERT_TRUE(QTest::qWaitForWindowActive(&browse));
  QString asked;
  browse.setConfirm([&](const QString& q) { asked = q; return true; });
  QTableView* table = browse.table();
  table->setFocus();
  table->setCurrentIndex(browse.model()->index(2, 1));  // caption 3
  for (int k = 0; k < 3; ++k) QTest::keyClick(table, Qt::Key_Down, Qt::ShiftModifier);  // 3..6
  QTest::keyClick(table, Qt::Key_D);
  EXPECT_TRUE(asked.contains("Drop 4 pairs")) << asked.toStdString();
  auto log = document_->project().decision_log();
  ASSERT_EQ(log->size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(log->at(k).caption_id, static_cast<int64_t>(3 + k));
    EXPECT_EQ(log->at(k).decision, db::Decision::kDrop);
    EXPECT_EQ(log->at(k).curator, "bob");
  }
  EXPECT_EQ(document_->undoStack()->count(), 1);
  document_->undoStack()->undo();
  EXPECT_EQ(document_->project().decision_counts()->drop, 0);
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
