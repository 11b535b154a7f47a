// The threshold view: its live count equals a count in SQL, dragging the line changes it, applying
// writes automatic decisions that never override a curator, and agreement with curators shows.

#include <sqlite3.h>

#include <QApplication>
#include <QTest>
#include <QtCharts/QChart>

#include "ui/shared/project_document.h"
#include "ui/thresholds/threshold_chart_view.h"
#include "ui/thresholds/threshold_view.h"
#include "ui_test_support.h"

namespace capfilt::ui {
namespace {

int64_t sql_count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

std::string below_sql(const char* source, double t) {
  return "SELECT count(*) FROM scores s JOIN captions c ON c.id = s.caption_id WHERE s.model_id = "
         "(SELECT max(model_id) FROM scores) AND c.source = '" + std::string(source) +
         "' AND s.itm < " + std::to_string(t);
}

class Thresholds : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch("thresholds");
    path_ = (dir_ / "p.capfilt").string();
    auto doc = ProjectDocument::open(QString::fromStdString(path_), "carol", true);
    ASSERT_TRUE(doc.is_ok()) << doc.status().message();
    document_ = std::move(doc.value());
    test::fill_project(document_->project(), 300, dir_, false);
  }
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<ProjectDocument> document_;
};

QString expected_text(int64_t web, int64_t web_total, int64_t synthetic) {
  return QStringLiteral("would drop %L1 web captions (%2 %), %L3 synthetic")
      .arg(web)
      .arg(100.0 * double(web) / double(web_total), 0, 'f', 1)
      .arg(synthetic);
}

TEST_F(Thresholds, LiveCountEqualsSqlCount) {
  ThresholdView view(document_.get());
  for (double t : {0.0, 0.3, 0.42, 0.55, 0.7, 1.0}) {
    view.setThreshold(t);
    const int64_t web = sql_count(path_, below_sql("web", t));
    const int64_t synthetic = sql_count(path_, below_sql("synthetic", t));
    EXPECT_EQ(view.liveCountText(), expected_text(web, 300, synthetic)) << "threshold " << t;
  }
}

TEST_F(Thresholds, DraggingTheLineUpdatesTheCount) {
  ThresholdView view(document_.get());
  view.resize(1000, 600);
  view.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
  ThresholdChartView* chart = view.chartView();
  const QRectF plot = chart->chart()->plotArea();
  const QPoint from = chart->mapFromScene(chart->chart()->mapToScene(
      QPointF(plot.left() + plot.width() * 0.5, plot.center().y())));
  const QPoint to = chart->mapFromScene(chart->chart()->mapToScene(
      QPointF(plot.left() + plot.width() * 0.8, plot.center().y())));
  QTest::mousePress(chart->viewport(), Qt::LeftButton, {}, from);
  QMouseEvent move(QEvent::MouseMove, to, chart->viewport()->mapToGlobal(to), Qt::NoButton,
                   Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(chart->viewport(), &move);
  QTest::mouseRelease(chart->viewport(), Qt::LeftButton, {}, to);
  EXPECT_NEAR(view.threshold(), 0.8, 0.02);
  const double t = view.threshold();
  const int64_t web = sql_count(path_, below_sql("web", t));
  const int64_t synthetic = sql_count(path_, below_sql("synthetic", t));
  EXPECT_TRUE(test::wait_until([&] { return view.liveCountText() == expected_text(web, 300, synthetic); }))
      << view.liveCountText().toStdString();
}

TEST_F(Thresholds, ApplyNeverOverridesACuratorAndShowsAgreement) {
  // Caption 1 (web, ITM 0.00) kept by the curator; caption 3 (web, ITM 0.37) dropped.
  document_->decide({{1, db::Decision::kKeep, db::DecisionOrigin::kCurator, {}, {}},
                     {3, db::Decision::kDrop, db::DecisionOrigin::kCurator, {}, {}}},
                    "review");
  ThresholdView view(document_.get());
  view.show();  // a hidden view reloads its counts only when shown
  view.setConfirm([](const QString&) { return true; });
  view.setThreshold(0.5);
  EXPECT_TRUE(view.agreementText().contains("2 curator decisions")) << view.agreementText().toStdString();
  view.apply();
  EXPECT_EQ(document_->project().pair(1)->decision, db::Decision::kKeep);  // the curator's stays
  const int64_t auto_drops = sql_count(
      path_, "SELECT count(*) FROM decisions WHERE origin = 'auto' AND decision = 'drop'");
  EXPECT_EQ(auto_drops, sql_count(path_, below_sql("web", 0.5)) - 2 +
                            sql_count(path_, below_sql("synthetic", 0.5)));
  EXPECT_EQ(view.stateCount(0, 0), 0);  // no web caption left undecided
  EXPECT_TRUE(document_->project().check().is_ok());

  // Undo takes the threshold's decisions back (the log records the undo); redo applies it again.
  const int64_t undecided_before = sql_count(
      path_, "SELECT count(*) FROM captions WHERE decision = 'undecided' AND source != 'human'");
  ASSERT_EQ(undecided_before, 0);
  document_->undoStack()->undo();
  EXPECT_EQ(sql_count(path_, "SELECT count(*) FROM decision_undos"), auto_drops +
            sql_count(path_, "SELECT count(*) FROM decisions WHERE origin = 'auto' AND decision = 'keep'"));
  EXPECT_EQ(document_->project().pair(1)->decision, db::Decision::kKeep);  // still the curator's
  EXPECT_EQ(document_->project().pair(3)->decision, db::Decision::kDrop);
  EXPECT_EQ(sql_count(path_, "SELECT count(*) FROM captions WHERE decision != 'undecided' AND "
                             "source != 'human'"),
            2);
  document_->undoStack()->redo();
  EXPECT_EQ(sql_count(path_, "SELECT count(*) FROM captions WHERE decision = 'undecided' AND "
                             "source != 'human'"),
            0);
  EXPECT_TRUE(document_->project().check().is_ok());
}

}  // namespace
}  // namespace capfilt::ui

CAPFILT_UI_TEST_MAIN()
