#pragma once
// Choosing an ITM threshold: the overlaid histograms with a draggable line, the live count of what
// it would drop ("would drop 1,234 web captions (18.2 %), 56 synthetic"), how it agrees with the
// curators' decisions (precision and recall of keep, the best-agreeing threshold), the counts per
// decision state and source, and applying it as automatic decisions that never override a curator.

#include <QWidget>

#include <functional>
#include <vector>

#include "ui/thresholds/threshold_stats.h"

class QDoubleSpinBox;
class QLabel;
class QTableWidget;
class QTimer;

namespace capfilt::ui {

class ProjectDocument;
class ThresholdChartView;

class ThresholdView : public QWidget {
  Q_OBJECT

 public:
  explicit ThresholdView(ProjectDocument* document, QWidget* parent = nullptr);

  double threshold() const;
  // The live sentence, exact for the current threshold once recount() ran.
  QString liveCountText() const;
  QString agreementText() const;
  int64_t stateCount(int source, int decision) const;
  ThresholdChartView* chartView() const { return chart_; }
  void setConfirm(std::function<bool(const QString&)> confirm) { confirm_ = std::move(confirm); }

 protected:
  void showEvent(QShowEvent* event) override;

 public Q_SLOTS:
  void setThreshold(double threshold);
  void reload();   // histograms, counts, reviewed scores (after decisions changed)
  void recount();  // the live count and agreement for the current threshold
  void apply();

 private:
  ProjectDocument* document_;
  ThresholdChartView* chart_;
  QDoubleSpinBox* value_;
  QLabel* live_;
  QLabel* agreement_;
  QTableWidget* states_;
  QTimer* recount_timer_;
  std::vector<ReviewedScore> reviewed_;
  StateCounts counts_;
  std::function<bool(const QString&)> confirm_;
  bool stale_ = false;  // decisions changed while hidden: reload when shown
};

}  // namespace capfilt::ui
