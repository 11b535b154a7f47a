#include "ui/review/review_view.h"

#include <QAction>
#include <QDateTime>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/review/caption_card.h"
#include "ui/review/help_overlay.h"
#include "ui/shared/edit_caption_command.h"
#include "ui/shared/project_document.h"
#include "ui/shared/studio_settings.h"
#include "ui/shared/thumbnail_loader.h"

namespace capfilt::ui {

namespace {
constexpr int kMaxSiblings = 12;  // captions of one image shown at once

QString when(int64_t ms) {
  return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}
}  // namespace

ReviewView::ReviewView(ProjectDocument* document, StudioSettings* settings, ThumbnailLoader* images,
                       QWidget* parent)
    : QWidget(parent), document_(document), settings_(settings), images_(images),
      pairs_(&document->project(), 100, 8) {
  setFocusPolicy(Qt::StrongFocus);
  pairs_.setQuery({}, db::PairSort::kPath, false);

  auto* outer = new QVBoxLayout(this);
  header_ = new QLabel(this);
  outer->addWidget(header_);

  auto* body = new QHBoxLayout;
  image_ = new QLabel(this);
  image_->setAlignment(Qt::AlignCenter);
  image_->setMinimumSize(320, 320);
  image_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  image_->setStyleSheet("background: #202020;");
  body->addWidget(image_, 3);

  auto* right = new QVBoxLayout;
  auto* cards_host = new QWidget(this);
  cards_layout_ = new QVBoxLayout(cards_host);
  cards_layout_->setContentsMargins(0, 0, 0, 0);
  for (int k = 0; k < kMaxSiblings; ++k) {
    auto* card = new CaptionCard(cards_host);
    card->hide();
    cards_layout_->addWidget(card);
    cards_.push_back(card);
  }
  cards_layout_->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(cards_host);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setFocusPolicy(Qt::NoFocus);
  right->addWidget(scroll, 1);
  editor_ = new QLineEdit(this);
  editor_->setPlaceholderText(tr("Corrected caption — Enter saves it as a human caption, Esc cancels"));
  editor_->hide();
  editor_->installEventFilter(this);
  connect(editor_, &QLineEdit::returnPressed, this, &ReviewView::commitEdit);
  right->addWidget(editor_);
  body->addLayout(right, 4);
  outer->addLayout(body, 1);

  status_ = new QLabel(this);
  status_->setWordWrap(true);
  outer->addWidget(status_);
  help_ = new HelpOverlay(settings_, this);
  buildActions();
  connect(document_, &ProjectDocument::decisionsChanged, this, [this] { reload(); });
  connect(images_, &ThumbnailLoader::ready, this, [this](const QString& path) {
    const db::PairRow* pair = currentPair();
    if (pair && QString::fromStdString(pair->image.path) == path) render();
  });
  render();
}

ReviewView::~ReviewView() = default;

void ReviewView::buildActions() {
  auto* buttons = new QHBoxLayout;
  for (const auto& info : review_actions()) {
    auto* action = new QAction(tr(info.label), this);
    action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    const ReviewAction which = info.action;
    if (which == ReviewAction::kToggleAutoAdvance) {
      action->setCheckable(true);
      action->setChecked(settings_->autoAdvance());
      connect(action, &QAction::toggled, this, [this](bool on) {
        settings_->setAutoAdvance(on);
        render();
        Q_EMIT message(on ? tr("Auto-advance on") : tr("Auto-advance off"));
      });
    } else {
      connect(action, &QAction::triggered, this, [this, which] { trigger(which); });
    }
    addAction(action);
    actions_.insert(static_cast<int>(which), action);
    auto* button = new QToolButton(this);
    button->setDefaultAction(action);
    button->setFocusPolicy(Qt::NoFocus);
    button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    buttons->addWidget(button);
  }
  buttons->addStretch(1);
  static_cast<QVBoxLayout*>(layout())->addLayout(buttons);
  reloadShortcuts();
}

void ReviewView::reloadShortcuts() {
  for (const auto& info : review_actions()) {
    QAction* a = action(info.action);
    const QKeySequence keys = settings_->shortcut(info.name, info.default_keys);
    const bool window_owns = undo_keys_in_window_ && (info.action == ReviewAction::kUndo ||
                                                      info.action == ReviewAction::kRedo);
    a->setShortcut(window_owns ? QKeySequence() : keys);
    a->setToolTip(QStringLiteral("%1 (%2)").arg(tr(info.help), keys.toString(QKeySequence::NativeText)));
  }
  help_->refresh();
}

void ReviewView::setUndoKeysInWindow(bool in_window) {
  undo_keys_in_window_ = in_window;
  reloadShortcuts();
}

int64_t ReviewView::pairCount() { return pairs_.total(); }

const db::PairRow* ReviewView::currentPair() { return pairs_.rowAt(position_); }

bool ReviewView::helpVisible() const { return help_->isVisible(); }
bool ReviewView::editing() const { return editor_->isVisible(); }

void ReviewView::setPosition(int64_t position) {
  const int64_t total = pairs_.total();
  position_ = std::clamp<int64_t>(position, 0, std::max<int64_t>(0, total - 1));
  render();
  Q_EMIT positionChanged(position_);
}

bool ReviewView::showCaption(int64_t caption_id, const QString& image_path) {
  const std::string path = image_path.toStdString();
  // The first position whose image path is not below `path` (SQLite orders paths bytewise, as
  // std::string compares them).
  int64_t low = 0, high = pairs_.total();
  while (low < high) {
    const int64_t mid = low + (high - low) / 2;
    const db::PairRow* row = pairs_.rowAt(mid);
    if (!row) return false;
    if (row->image.path < path) low = mid + 1;
    else high = mid;
  }
  for (int64_t p = low; p < low + 64; ++p) {  // the captions of that image
    const db::PairRow* row = pairs_.rowAt(p);
    if (!row || row->image.path != path) break;
    if (row->caption_id == caption_id) {
      setPosition(p);
      return true;
    }
  }
  return false;
}

void ReviewView::reload() {
  pairs_.invalidate();
  setPosition(position_);
}

void ReviewView::trigger(ReviewAction which) {
  switch (which) {
    case ReviewAction::kNext: setPosition(position_ + 1); break;
    case ReviewAction::kPrevious: setPosition(position_ - 1); break;
    case ReviewAction::kKeep: decideCurrent(db::Decision::kKeep, tr("Keep")); break;
    case ReviewAction::kDrop: decideCurrent(db::Decision::kDrop, tr("Drop")); break;
    case ReviewAction::kAcceptProposal: acceptProposal(); break;
    case ReviewAction::kSwapToSynthetic: swapToSynthetic(); break;
    case ReviewAction::kEdit: startEdit(); break;
    case ReviewAction::kUndo: document_->undoStack()->undo(); break;
    case ReviewAction::kRedo: document_->undoStack()->redo(); break;
    case ReviewAction::kToggleAutoAdvance: action(which)->toggle(); break;
    case ReviewAction::kHelp:
      if (help_->isVisible()) {
        help_->hide();
      } else {
        help_->refresh();
        help_->show();
        help_->raise();
      }
      break;
  }
}

std::vector<db::PairRow> ReviewView::siblings() {
  std::vector<db::PairRow> out;
  const db::PairRow* current = currentPair();
  if (!current) return out;
  const int64_t image = current->image_id;
  int64_t first = position_;
  while (first > 0 && position_ - first < kMaxSiblings / 2) {
    const db::PairRow* before = pairs_.rowAt(first - 1);
    if (!before || before->image_id != image) break;
    --first;
  }
  for (int64_t p = first; static_cast<int>(out.size()) < kMaxSiblings; ++p) {
    const db::PairRow* row = pairs_.rowAt(p);
    if (!row || row->image_id != image) break;
    out.push_back(*row);
  }
  return out;
}

// "curator alice, 2026-11-29 21:04" or "automatic (filter#2 itm<0.5), …"; fills auto_decision
// with the automatic decision in force, if any (the proposal a curator accepts).
QString ReviewView::whoDecided(int64_t caption_id, db::Decision* auto_decision) {
  *auto_decision = db::Decision::kUndecided;
  auto log = document_->project().decision_log(caption_id);
  if (!log) return QString::fromStdString(log.status().message());
  for (auto it = log->rbegin(); it != log->rend(); ++it) {
    if (it->undone_ms != 0) continue;
    if (it->origin == db::DecisionOrigin::kAuto) {
      *auto_decision = it->decision;
      return tr("automatic (%1), %2").arg(QString::fromStdString(it->curator), when(it->time_ms));
    }
    return tr("curator %1, %2").arg(QString::fromStdString(it->curator), when(it->time_ms));
  }
  return QString();
}

void ReviewView::render() {
  const db::PairRow* current = currentPair();
  const int64_t total = pairs_.total();
  if (!current) {
    header_->setText(total == 0 ? tr("This project has no pairs yet. Import a dataset (File → Import).")
                                : QString::fromStdString(pairs_.lastError().message()));
    image_->clear();
    for (auto* card : cards_) card->hide();
    return;
  }
  const QString path = QString::fromStdString(current->image.path);
  header_->setText(tr("<b>Pair %L1 of %L2</b> · %3 · split %4 · auto-advance %5 · press ? for keys")
                       .arg(position_ + 1)
                       .arg(total)
                       .arg(path.toHtmlEscaped(),
                            QString::fromStdString(current->image.split.empty() ? "—" : current->image.split),
                            settings_->autoAdvance() ? tr("on") : tr("off")));
  const QPixmap pixmap = images_->pixmap(path);
  image_->setPixmap(pixmap.scaled(image_->size().boundedTo(QSize(768, 768)), Qt::KeepAspectRatio,
                                  Qt::SmoothTransformation));
  const std::vector<db::PairRow> rows = siblings();
  const double threshold = settings_->proposalThreshold();
  for (size_t k = 0; k < cards_.size(); ++k) {
    if (k >= rows.size()) {
      cards_[k]->hide();
      continue;
    }
    db::Decision proposed;
    const QString who = whoDecided(rows[k].caption_id, &proposed);
    QString proposal;
    if (proposed == db::Decision::kUndecided && rows[k].itm)
      proposed = *rows[k].itm >= threshold ? db::Decision::kKeep : db::Decision::kDrop;
    if (proposed != db::Decision::kUndecided)
      proposal = tr("CapFilt proposes: %1").arg(QString::fromLatin1(db::to_string(proposed)));
    cards_[k]->show(rows[k], who, proposal, rows[k].caption_id == current->caption_id);
    cards_[k]->setVisible(true);
  }
}

void ReviewView::decideCurrent(db::Decision decision, const QString& text) {
  const db::PairRow* current = currentPair();
  if (!current) return;
  db::DecisionInput input;
  input.caption_id = current->caption_id;
  input.decision = decision;
  document_->decide({input}, tr("%1 caption #%2").arg(text).arg(current->caption_id));
  advance();
}

void ReviewView::acceptProposal() {
  const db::PairRow* current = currentPair();
  if (!current) return;
  db::Decision proposed;
  whoDecided(current->caption_id, &proposed);
  if (proposed == db::Decision::kUndecided && current->itm)
    proposed = *current->itm >= settings_->proposalThreshold() ? db::Decision::kKeep
                                                                : db::Decision::kDrop;
  if (proposed == db::Decision::kUndecided) {
    status_->setText(tr("No proposal for this caption: it has no scores and no automatic decision."));
    return;
  }
  decideCurrent(proposed, tr("Accept proposal (%1)").arg(QString::fromLatin1(db::to_string(proposed))));
}

void ReviewView::swapToSynthetic() {
  const db::PairRow* current = currentPair();
  if (!current) return;
  const std::vector<db::PairRow> rows = siblings();
  const db::PairRow* web = current->caption.source == db::CaptionSource::kWeb ? current : nullptr;
  const db::PairRow* synthetic = nullptr;
  for (const auto& row : rows) {
    if (!web && row.caption.source == db::CaptionSource::kWeb) web = &row;
    if (row.caption.source == db::CaptionSource::kSynthetic &&
        (!synthetic || row.itm.value_or(0) > synthetic->itm.value_or(0)))
      synthetic = &row;
  }
  if (!web || !synthetic) {
    status_->setText(tr("This image needs a web and a synthetic caption to swap them."));
    return;
  }
  db::DecisionInput drop{web->caption_id, db::Decision::kDrop, db::DecisionOrigin::kCurator, {},
                         "synthetic caption preferred"};
  db::DecisionInput keep{synthetic->caption_id, db::Decision::kKeep, db::DecisionOrigin::kCurator,
                         {}, "preferred to the web caption"};
  document_->decide({drop, keep}, tr("Use synthetic caption #%1 instead of web #%2")
                                      .arg(synthetic->caption_id)
                                      .arg(web->caption_id));
  advance();
}

void ReviewView::startEdit() {
  const db::PairRow* current = currentPair();
  if (!current) return;
  editor_->setText(QString::fromStdString(current->caption.text));
  editor_->show();
  editor_->setFocus();
  editor_->selectAll();
}

void ReviewView::commitEdit() {
  const db::PairRow* current = currentPair();
  const QString text = editor_->text().simplified();
  editor_->hide();
  setFocus();
  if (!current || text.isEmpty() || text.toStdString() == current->caption.text) return;
  document_->undoStack()->push(new EditCaptionCommand(document_, *current, text.toStdString()));
}

void ReviewView::advance() {
  if (settings_->autoAdvance()) setPosition(position_ + 1);
}

bool ReviewView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == editor_ && event->type() == QEvent::KeyPress &&
      static_cast<QKeyEvent*>(event)->key() == Qt::Key_Escape) {
    editor_->hide();
    setFocus();
    return true;
  }
  return QWidget::eventFilter(watched, event);
}

void ReviewView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  help_->setGeometry(rect());
  render();
}

}  // namespace capfilt::ui
