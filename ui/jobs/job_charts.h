#pragma once
// Live charts of a job (Qt Charts): every loss term in one chart, the learning rate in another,
// throughput (pairs/s while training, units/s for CapFilt and evaluation) in a third. Fed the
// whole series map of a JobEntry each time; a series is replaced, not appended, so a reattached
// job's points (job_metrics, then its log) and a live one's look the same.

#include <QString>
#include <QStringList>
#include <QWidget>

#include <map>
#include <string>

class QChart;
class QLineSeries;
class QValueAxis;

namespace capfilt::ui {

class JobCharts : public QWidget {
  Q_OBJECT

 public:
  explicit JobCharts(QWidget* parent = nullptr);
  void setSeries(const std::map<std::string, std::map<qint64, double>>& series);
  void clear();
  // For tests and the status line: the series shown and how many points one has.
  QStringList seriesNames() const;
  int pointCount(const QString& name) const;

 private:
  struct Chart {
    QChart* chart = nullptr;
    QValueAxis* x = nullptr;
    QValueAxis* y = nullptr;
  };
  Chart* chartFor(const std::string& name);
  void rescale(Chart& c);

  Chart losses_, lr_, throughput_;
  std::map<std::string, QLineSeries*> series_;
};

}  // namespace capfilt::ui
