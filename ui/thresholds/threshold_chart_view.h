#pragma once
// Overlaid ITM histograms (web, synthetic) with a vertical threshold line the mouse drags.

#include <QtCharts/QChartView>

#include <vector>

#include "db/records.h"

QT_BEGIN_NAMESPACE
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace capfilt::ui {

class ThresholdChartView : public QChartView {
  Q_OBJECT

 public:
  explicit ThresholdChartView(QWidget* parent = nullptr);
  void setHistograms(const std::vector<db::ScoreHistogram>& histograms);
  double threshold() const { return threshold_; }

 public Q_SLOTS:
  void setThreshold(double threshold);

 Q_SIGNALS:
  void thresholdChanged(double threshold);

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;

 private:
  double valueAt(const QPointF& position) const;

  QValueAxis* x_axis_;
  QValueAxis* y_axis_;
  QLineSeries* line_;
  double threshold_ = 0.5;
  double y_max_ = 1;
  bool dragging_ = false;
};

}  // namespace capfilt::ui
