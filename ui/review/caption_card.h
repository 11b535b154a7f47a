#pragma once
// One caption of the reviewed image: its source, text, ITM and ITC as bars with numbers, its
// current decision and who made it when. The card of the pair under review is highlighted.

#include <QFrame>

#include "db/records.h"

class QLabel;
class QProgressBar;

namespace capfilt::ui {

class CaptionCard : public QFrame {
  Q_OBJECT

 public:
  explicit CaptionCard(QWidget* parent = nullptr);
  // `who` says who decided and when ("curator alice, 21:04" / "automatic: filter#2 itm<0.5").
  void show(const db::PairRow& pair, const QString& who, const QString& proposal, bool current);
  int64_t captionId() const { return caption_id_; }

 private:
  int64_t caption_id_ = 0;
  QLabel* source_;
  QLabel* text_;
  QProgressBar* itm_;
  QProgressBar* itc_;
  QLabel* decision_;
};

}  // namespace capfilt::ui
