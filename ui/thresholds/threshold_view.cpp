#include "ui/thresholds/threshold_view.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>

#include "ui/shared/project_document.h"
#include "ui/thresholds/apply_threshold.h"
#include "ui/thresholds/apply_threshold_command.h"
#include "ui/thresholds/threshold_chart_view.h"

namespace capfilt::ui {

ThresholdView::ThresholdView(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
  auto* outer = new QHBoxLayout(this);
  chart_ = new ThresholdChartView(this);
  chart_->setMinimumSize(420, 300);
  outer->addWidget(chart_, 3);

  auto* side = new QVBoxLayout;
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Drop below ITM"), this));
  value_ = new QDoubleSpinBox(this);
  value_->setRange(0, 1);
  value_->setDecimals(3);
  value_->setSingleStep(0.01);
  value_->setValue(chart_->threshold());
  row->addWidget(value_);
  side->addLayout(row);
  live_ = new QLabel(this);
  live_->setWordWrap(true);
  QFont bold = live_->font();
  bold.setBold(true);
  live_->setFont(bold);
  side->addWidget(live_);
  agreement_ = new QLabel(this);
  agreement_->setWordWrap(true);
  side->addWidget(agreement_);
  auto* apply = new QPushButton(tr("Apply as automatic decisions…"), this);
  side->addWidget(apply);

  side->addWidget(new QLabel(tr("<b>Pairs per source and decision</b>"), this));
  states_ = new QTableWidget(3, 3, this);
  states_->setHorizontalHeaderLabels({tr("undecided"), tr("keep"), tr("drop")});
  states_->setVerticalHeaderLabels({tr("web"), tr("synthetic"), tr("human")});
  states_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  states_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  states_->setMaximumHeight(130);
  side->addWidget(states_);
  side->addStretch(1);
  outer->addLayout(side, 2);

  recount_timer_ = new QTimer(this);
  recount_timer_->setSingleShot(true);
  recount_timer_->setInterval(40);  // coalesces the counts while the line is dragged
  connect(recount_timer_, &QTimer::timeout, this, &ThresholdView::recount);
  connect(chart_, &ThresholdChartView::thresholdChanged, this, [this](double t) {
    if (std::abs(value_->value() - t) > 1e-9) value_->setValue(t);
    recount_timer_->start();
  });
  connect(value_, &QDoubleSpinBox::valueChanged, chart_, &ThresholdChartView::setThreshold);
  connect(apply, &QPushButton::clicked, this, &ThresholdView::apply);
  // Histograms, counts and the curators' decisions are whole-project queries: a hidden view only
  // notes that they changed and reloads when it is shown again.
  connect(document_, &ProjectDocument::decisionsChanged, this, [this] {
    if (isVisible()) reload();
    else stale_ = true;
  });
  confirm_ = [this](const QString& q) {
    return QMessageBox::question(this, tr("Apply threshold"), q) == QMessageBox::Yes;
  };
  reload();
}

double ThresholdView::threshold() const { return chart_->threshold(); }
QString ThresholdView::liveCountText() const { return live_->text(); }
QString ThresholdView::agreementText() const { return agreement_->text(); }
int64_t ThresholdView::stateCount(int source, int decision) const {
  return counts_.counts[source][decision];
}

void ThresholdView::setThreshold(double threshold) {
  chart_->setThreshold(threshold);
  recount();
}

void ThresholdView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (stale_) reload();
}

void ThresholdView::reload() {
  stale_ = false;
  db::Project& project = document_->project();
  auto histograms = project.itm_histogram(50);
  if (histograms) chart_->setHistograms(*histograms);
  auto counts = count_states(project);
  if (counts) {
    counts_ = *counts;
    for (int s = 0; s < 3; ++s)
      for (int d = 0; d < 3; ++d)
        states_->setItem(s, d, new QTableWidgetItem(QLocale().toString(static_cast<qlonglong>(counts_.counts[s][d]))));
  }
  auto reviewed = curator_reviewed_scores(project);
  reviewed_ = reviewed ? std::move(reviewed.value()) : std::vector<ReviewedScore>{};
  recount();
}

void ThresholdView::recount() {
  db::Project& project = document_->project();
  const double t = chart_->threshold();
  auto web = count_below(project, db::CaptionSource::kWeb, t);
  auto synthetic = count_below(project, db::CaptionSource::kSynthetic, t);
  if (!web || !synthetic) {
    live_->setText(QString::fromStdString((web ? synthetic.status() : web.status()).message()));
    return;
  }
  const double share = web->scored ? 100.0 * double(web->below) / double(web->scored) : 0.0;
  live_->setText(tr("would drop %L1 web captions (%2 %), %L3 synthetic")
                     .arg(static_cast<qlonglong>(web->below))
                     .arg(share, 0, 'f', 1)
                     .arg(static_cast<qlonglong>(synthetic->below)));
  if (reviewed_.empty()) {
    agreement_->setText(tr("No curator decisions on scored captions yet: review some pairs to see "
                           "how this threshold agrees with them."));
    return;
  }
  const Agreement a = agreement_at(reviewed_, t);
  auto pct = [](double v) { return std::isnan(v) ? QStringLiteral("—") : QString::number(100 * v, 'f', 1) + " %"; };
  agreement_->setText(tr("Against %L1 curator decisions: precision of keep %2, recall %3, "
                         "agreement %4. Best-agreeing threshold: %5.")
                          .arg(static_cast<qlonglong>(a.reviewed))
                          .arg(pct(a.precision), pct(a.recall), pct(a.agreement))
                          .arg(best_agreeing_threshold(reviewed_), 0, 'f', 2));
}

void ThresholdView::apply() {
  const double t = chart_->threshold();
  const QString question =
      tr("Apply ITM threshold %1: %2. Curators' decisions are never changed; Undo takes the "
         "threshold's decisions back.")
          .arg(t, 0, 'f', 3)
          .arg(live_->text());
  if (confirm_ && !confirm_(question)) return;
  document_->undoStack()->push(new ApplyThresholdCommand(document_, t));
}

}  // namespace capfilt::ui
