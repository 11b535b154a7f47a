#include "ui/thresholds/threshold_chart_view.h"

#include <QMouseEvent>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>

namespace capfilt::ui {

ThresholdChartView::ThresholdChartView(QWidget* parent) : QChartView(parent) {
  auto* chart = new QChart;
  chart->setTitle(tr("ITM scores: drag the red line to set the threshold"));
  chart->legend()->setAlignment(Qt::AlignBottom);
  x_axis_ = new QValueAxis(chart);
  x_axis_->setRange(0, 1);
  x_axis_->setTitleText(tr("ITM match probability"));
  x_axis_->setLabelFormat("%.1f");
  x_axis_->setTickCount(11);
  y_axis_ = new QValueAxis(chart);
  y_axis_->setTitleText(tr("captions"));
  y_axis_->setLabelFormat("%d");
  chart->addAxis(x_axis_, Qt::AlignBottom);
  chart->addAxis(y_axis_, Qt::AlignLeft);
  line_ = new QLineSeries(chart);
  line_->setName(tr("threshold"));
  QPen pen(QColor(0xd0, 0x20, 0x20));
  pen.setWidth(3);
  line_->setPen(pen);
  chart->addSeries(line_);
  line_->attachAxis(x_axis_);
  line_->attachAxis(y_axis_);
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMouseTracking(true);
  setThreshold(threshold_);
}

void ThresholdChartView::setHistograms(const std::vector<db::ScoreHistogram>& histograms) {
  QChart* c = chart();
  for (QAbstractSeries* s : c->series()) {
    if (s != line_) {
      c->removeSeries(s);
      delete s;
    }
  }
  y_max_ = 1;
  for (const auto& h : histograms) {
    if (h.counts.empty() || h.source == db::CaptionSource::kHuman) continue;
    auto* upper = new QLineSeries;
    const double width = 1.0 / static_cast<double>(h.counts.size());
    for (size_t k = 0; k < h.counts.size(); ++k) {  // a step outline of the bins
      upper->append(k * width, static_cast<double>(h.counts[k]));
      upper->append((k + 1) * width, static_cast<double>(h.counts[k]));
      y_max_ = std::max<double>(y_max_, static_cast<double>(h.counts[k]));
    }
    auto* area = new QAreaSeries(upper);
    upper->setParent(area);
    const bool web = h.source == db::CaptionSource::kWeb;
    area->setName(web ? tr("web captions") : tr("synthetic captions"));
    QColor fill = web ? QColor(0xf0, 0x8c, 0x20) : QColor(0x30, 0x70, 0xd0);
    area->setPen(QPen(fill.darker(130), 1.5));
    fill.setAlpha(110);
    area->setBrush(fill);
    c->addSeries(area);
    area->attachAxis(x_axis_);
    area->attachAxis(y_axis_);
  }
  y_axis_->setRange(0, y_max_ * 1.05);
  y_axis_->applyNiceNumbers();
  setThreshold(threshold_);
}

void ThresholdChartView::setThreshold(double threshold) {
  threshold = std::clamp(threshold, 0.0, 1.0);
  const bool changed = threshold != threshold_;
  threshold_ = threshold;
  line_->clear();
  line_->append(threshold_, 0);
  line_->append(threshold_, y_axis_->max());
  if (changed) Q_EMIT thresholdChanged(threshold_);
}

double ThresholdChartView::valueAt(const QPointF& position) const {
  const QPointF scene = mapToScene(position.toPoint());
  const QPointF in_chart = chart()->mapFromScene(scene);
  return chart()->mapToValue(in_chart, line_).x();
}

void ThresholdChartView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && chart()->plotArea().contains(
                                                chart()->mapFromScene(mapToScene(event->pos())))) {
    dragging_ = true;
    setThreshold(std::round(valueAt(event->position()) * 1000) / 1000);
    event->accept();
    return;
  }
  QChartView::mousePressEvent(event);
}

void ThresholdChartView::mouseMoveEvent(QMouseEvent* event) {
  const double x = valueAt(event->position());
  const QPointF at = chart()->mapToPosition(QPointF(threshold_, 0), line_);
  const QPointF here = chart()->mapFromScene(mapToScene(event->pos()));
  setCursor(dragging_ || std::abs(at.x() - here.x()) < 6 ? Qt::SizeHorCursor : Qt::ArrowCursor);
  if (dragging_) {
    setThreshold(std::round(x * 1000) / 1000);
    event->accept();
    return;
  }
  QChartView::mouseMoveEvent(event);
}

void ThresholdChartView::mouseReleaseEvent(QMouseEvent* event) {
  dragging_ = false;
  QChartView::mouseReleaseEvent(event);
}

}  // namespace capfilt::ui
