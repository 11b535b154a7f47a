#include "ui/jobs/job_charts.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <limits>

namespace capfilt::ui {
namespace {

void make(QChart*& chart, QValueAxis*& x, QValueAxis*& y, const QString& title,
          const QString& format, QGridLayout* grid, int column, QWidget* parent) {
  chart = new QChart();
  chart->setTitle(title);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  x = new QValueAxis(chart);
  x->setTitleText(QObject::tr("step"));
  x->setLabelFormat("%d");
  y = new QValueAxis(chart);
  y->setLabelFormat(format);
  y->setTitleText(title == QObject::tr("Throughput") ? QObject::tr("per second") : QString());
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(180);
  if (column > 0) x->setTickCount(4);  // the narrow charts: room for 3-digit steps
  grid->addWidget(view, 0, column);
}

}  // namespace

JobCharts::JobCharts(QWidget* parent) : QWidget(parent) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  make(losses_.chart, losses_.x, losses_.y, tr("Losses"), "%.2f", grid, 0, this);
  make(lr_.chart, lr_.x, lr_.y, tr("Learning rate"), "%.0e", grid, 1, this);
  make(throughput_.chart, throughput_.x, throughput_.y, tr("Throughput"), "%.1f",
       grid, 2, this);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 2);
  grid->setColumnStretch(2, 2);
}

JobCharts::Chart* JobCharts::chartFor(const std::string& name) {
  if (name.rfind("loss", 0) == 0) return &losses_;
  if (name == "lr") return &lr_;
  if (name == "pairs_per_s" || name == "units_per_s") return &throughput_;
  return nullptr;  // temperature, grad_norm, ...: in the log and the final metrics
}

void JobCharts::rescale(Chart& c) {
  double x0 = std::numeric_limits<double>::max(), x1 = std::numeric_limits<double>::lowest();
  double y0 = x0, y1 = x1;
  for (QAbstractSeries* s : c.chart->series()) {
    for (const QPointF& p : static_cast<QLineSeries*>(s)->points()) {
      x0 = std::min(x0, p.x());
      x1 = std::max(x1, p.x());
      y0 = std::min(y0, p.y());
      y1 = std::max(y1, p.y());
    }
  }
  if (x0 > x1) return;
  if (x1 <= x0) x1 = x0 + 1;
  const double pad = y1 > y0 ? 0.05 * (y1 - y0) : std::max(1e-12, 0.05 * std::abs(y0));
  c.x->setRange(x0, x1);
  c.y->setRange(std::max(y0 >= 0 ? 0.0 : y0 - pad, y0 - pad), y1 + pad);
}

void JobCharts::setSeries(const std::map<std::string, std::map<qint64, double>>& series) {
  for (const auto& [name, points] : series) {
    Chart* c = chartFor(name);
    if (!c) continue;
    QLineSeries*& line = series_[name];
    if (!line) {
      line = new QLineSeries();
      // The legend is narrow: "itc", "itm", "lm" for the loss terms, "total" for their sum.
      QString label = QString::fromStdString(name);
      if (label == QLatin1String("loss")) label = tr("total");
      else if (label.startsWith(QLatin1String("loss_"))) label = label.mid(5);
      line->setName(label);
      c->chart->addSeries(line);
      line->attachAxis(c->x);
      line->attachAxis(c->y);
    }
    QList<QPointF> xy;
    xy.reserve(static_cast<qsizetype>(points.size()));
    for (const auto& [step, value] : points) xy.append(QPointF(double(step), value));
    line->replace(xy);
  }
  for (Chart* c : {&losses_, &lr_, &throughput_}) rescale(*c);
}

void JobCharts::clear() {
  for (Chart* c : {&losses_, &lr_, &throughput_}) {
    c->chart->removeAllSeries();
    c->x->setRange(0, 10);  // whole steps: a 0..1 axis would label 0 0 0 0 1
    c->y->setRange(0, 1);
  }
  series_.clear();
}

QStringList JobCharts::seriesNames() const {
  QStringList names;
  for (const auto& [name, line] : series_) names << QString::fromStdString(name);
  return names;
}

int JobCharts::pointCount(const QString& name) const {
  auto it = series_.find(name.toStdString());
  return it == series_.end() ? 0 : static_cast<int>(it->second->count());
}

}  // namespace capfilt::ui
