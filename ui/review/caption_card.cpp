#include "ui/review/caption_card.h"

#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>

namespace capfilt::ui {

namespace {
QProgressBar* score_bar(QWidget* parent) {
  auto* bar = new QProgressBar(parent);
  bar->setRange(0, 1000);
  bar->setTextVisible(true);
  bar->setMaximumHeight(18);
  return bar;
}

void set_score(QProgressBar* bar, const char* name, const std::optional<double>& value) {
  if (!value) {
    bar->setValue(0);
    bar->setFormat(QStringLiteral("%1 —").arg(QLatin1String(name)));
    return;
  }
  // ITC is a cosine in [-1, 1]; the bar shows it from 0, the number is exact.
  bar->setValue(static_cast<int>(std::clamp(*value, 0.0, 1.0) * 1000));
  bar->setFormat(QStringLiteral("%1 %2").arg(QLatin1String(name)).arg(*value, 0, 'f', 3));
}

QString decision_text(db::Decision d) {
  switch (d) {
    case db::Decision::kKeep: return QObject::tr("KEEP");
    case db::Decision::kDrop: return QObject::tr("DROP");
    case db::Decision::kUndecided: break;
  }
  return QObject::tr("undecided");
}
}  // namespace

CaptionCard::CaptionCard(QWidget* parent) : QFrame(parent) {
  setFrameShape(QFrame::StyledPanel);
  setObjectName("captionCard");
  auto* grid = new QGridLayout(this);
  source_ = new QLabel(this);
  text_ = new QLabel(this);
  text_->setWordWrap(true);
  text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont big = text_->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  text_->setFont(big);
  itm_ = score_bar(this);
  itc_ = score_bar(this);
  decision_ = new QLabel(this);
  decision_->setWordWrap(true);
  grid->addWidget(source_, 0, 0, 1, 2);
  grid->addWidget(text_, 1, 0, 1, 2);
  grid->addWidget(itm_, 2, 0);
  grid->addWidget(itc_, 2, 1);
  grid->addWidget(decision_, 3, 0, 1, 2);
  grid->setColumnStretch(0, 1);
  grid->setColumnStretch(1, 1);
}

void CaptionCard::show(const db::PairRow& pair, const QString& who, const QString& proposal,
                       bool current) {
  caption_id_ = pair.caption_id;
  source_->setText(QStringLiteral("<b>%1</b> · #%2")
                       .arg(QString::fromLatin1(db::to_string(pair.caption.source)))
                       .arg(pair.caption_id));
  text_->setText(QString::fromStdString(pair.caption.text));
  set_score(itm_, "ITM", pair.itm);
  set_score(itc_, "ITC", pair.itc);
  QString line = QStringLiteral("<b>%1</b>").arg(decision_text(pair.decision));
  if (!who.isEmpty()) line += QStringLiteral(" — %1").arg(who.toHtmlEscaped());
  if (!proposal.isEmpty()) line += QStringLiteral("<br><i>%1</i>").arg(proposal.toHtmlEscaped());
  decision_->setText(line);
  const char* colour = pair.decision == db::Decision::kKeep   ? "#e3f4e1"
                       : pair.decision == db::Decision::kDrop ? "#f8e0e0"
                                                              : "#f4f4f4";
  setStyleSheet(QStringLiteral("#captionCard { background: %1; border: %2; border-radius: 6px; }")
                    .arg(QLatin1String(colour),
                         current ? QStringLiteral("3px solid #2a6ebb")
                                 : QStringLiteral("1px solid #c8c8c8")));
}

}  // namespace capfilt::ui
