#pragma once
// The pairs a job uses, chosen as in the browser: split, caption sources, current decisions and a
// score range of the project's filter. Gives the PairFilter (to count the selection before a
// launch) and the matching `capfilt train` flags.

#include <QStringList>
#include <QWidget>

#include "db/records.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;

namespace capfilt::ui {

class DataSelection : public QWidget {
  Q_OBJECT

 public:
  explicit DataSelection(QWidget* parent = nullptr);
  db::PairFilter filter() const;
  QStringList trainArguments() const;
  QString split() const;  // empty: any
  void setSplit(const QString& split);
  void setSources(const QStringList& sources);
  void setDecisions(const QStringList& decisions);
  void setItmRange(double min, double max);  // enables the score range

 private:
  QComboBox* split_;
  QList<QCheckBox*> sources_;
  QList<QCheckBox*> decisions_;
  QCheckBox* use_scores_;
  QDoubleSpinBox* itm_min_;
  QDoubleSpinBox* itm_max_;
  QDoubleSpinBox* itc_min_;
  QDoubleSpinBox* itc_max_;
};

}  // namespace capfilt::ui
