#include "ui/jobs/data_selection.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>

namespace capfilt::ui {
namespace {

QDoubleSpinBox* score_box(QWidget* parent, double min, double value) {
  auto* box = new QDoubleSpinBox(parent);
  box->setRange(min, 1.0);
  box->setDecimals(2);
  box->setSingleStep(0.05);
  box->setValue(value);
  return box;
}

QStringList checked(const QList<QCheckBox*>& boxes) {
  QStringList names;
  for (QCheckBox* b : boxes)
    if (b->isChecked()) names << b->objectName().section('_', 1);
  return names;
}

}  // namespace

DataSelection::DataSelection(QWidget* parent) : QWidget(parent) {
  split_ = new QComboBox(this);
  split_->setObjectName("split");
  split_->addItem(tr("any split"), QString());
  for (const char* s : {"train", "val", "test"}) split_->addItem(s, QString(s));
  auto* source_row = new QHBoxLayout();
  for (const char* s : {"web", "synthetic", "human"}) {
    auto* box = new QCheckBox(s, this);
    box->setObjectName(QStringLiteral("source_%1").arg(s));
    box->setChecked(true);
    sources_ << box;
    source_row->addWidget(box);
  }
  auto* decision_row = new QHBoxLayout();
  for (const char* d : {"keep", "undecided", "drop"}) {
    auto* box = new QCheckBox(d, this);
    box->setObjectName(QStringLiteral("decision_%1").arg(d));
    box->setChecked(QLatin1String(d) != QLatin1String("drop"));  // CapFilt's point: drop the noise
    decisions_ << box;
    decision_row->addWidget(box);
  }
  use_scores_ = new QCheckBox(tr("only pairs whose filter scores are in"), this);
  use_scores_->setObjectName("use_scores");
  itm_min_ = score_box(this, 0, 0);
  itm_max_ = score_box(this, 0, 1);
  itc_min_ = score_box(this, -1, -1);
  itc_max_ = score_box(this, -1, 1);
  auto* itm_row = new QHBoxLayout();
  itm_row->addWidget(new QLabel(tr("ITM"), this));
  itm_row->addWidget(itm_min_);
  itm_row->addWidget(new QLabel(QStringLiteral("–"), this));
  itm_row->addWidget(itm_max_);
  itm_row->addWidget(new QLabel(tr("ITC"), this));
  itm_row->addWidget(itc_min_);
  itm_row->addWidget(new QLabel(QStringLiteral("–"), this));
  itm_row->addWidget(itc_max_);
  for (QDoubleSpinBox* b : {itm_min_, itm_max_, itc_min_, itc_max_}) b->setEnabled(false);
  connect(use_scores_, &QCheckBox::toggled, this, [this](bool on) {
    for (QDoubleSpinBox* b : {itm_min_, itm_max_, itc_min_, itc_max_}) b->setEnabled(on);
  });
  auto* form = new QFormLayout(this);
  form->setContentsMargins(0, 0, 0, 0);
  form->addRow(tr("Split:"), split_);
  form->addRow(tr("Caption sources:"), source_row);
  form->addRow(tr("Decisions:"), decision_row);
  form->addRow(use_scores_);
  form->addRow(itm_row);
}

QString DataSelection::split() const { return split_->currentData().toString(); }

void DataSelection::setSplit(const QString& split) {
  const int i = split_->findData(split);
  if (i >= 0) split_->setCurrentIndex(i);
}

void DataSelection::setSources(const QStringList& sources) {
  for (QCheckBox* b : sources_) b->setChecked(sources.contains(b->objectName().section('_', 1)));
}

void DataSelection::setDecisions(const QStringList& decisions) {
  for (QCheckBox* b : decisions_) b->setChecked(decisions.contains(b->objectName().section('_', 1)));
}

void DataSelection::setItmRange(double min, double max) {
  use_scores_->setChecked(true);
  itm_min_->setValue(min);
  itm_max_->setValue(max);
}

db::PairFilter DataSelection::filter() const {
  db::PairFilter f;
  f.split = split().toStdString();
  const QStringList sources = checked(sources_);
  if (sources.size() < sources_.size()) {
    for (const QString& s : sources) {
      db::CaptionSource source;
      if (db::parse(s.toStdString(), &source)) f.sources.push_back(source);
    }
  }
  const QStringList decisions = checked(decisions_);
  if (decisions.size() < decisions_.size()) {
    for (const QString& d : decisions) {
      db::Decision decision;
      if (db::parse(d.toStdString(), &decision)) f.decisions.push_back(decision);
    }
  }
  if (use_scores_->isChecked()) {
    f.itm_min = itm_min_->value();
    f.itm_max = itm_max_->value();
    f.itc_min = itc_min_->value();
    f.itc_max = itc_max_->value();
  }
  return f;
}

QStringList DataSelection::trainArguments() const {
  QStringList args;
  if (!split().isEmpty()) args << "--split" << split();
  const QStringList sources = checked(sources_);
  if (sources.size() < sources_.size())
    for (const QString& s : sources) args << "--source" << s;
  const QStringList decisions = checked(decisions_);
  if (decisions.size() < decisions_.size())
    for (const QString& d : decisions) args << "--decision" << d;
  if (use_scores_->isChecked()) {
    args << "--itm-min" << QString::number(itm_min_->value()) << "--itm-max"
         << QString::number(itm_max_->value()) << "--itc-min" << QString::number(itc_min_->value())
         << "--itc-max" << QString::number(itc_max_->value());
  }
  return args;
}

}  // namespace capfilt::ui
