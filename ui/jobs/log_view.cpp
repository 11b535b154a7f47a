#include "ui/jobs/log_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextDocument>
#include <QToolButton>
#include <QVBoxLayout>

namespace capfilt::ui {

LogView::LogView(QWidget* parent) : QWidget(parent) {
  text_ = new QPlainTextEdit(this);
  text_->setReadOnly(true);
  text_->setLineWrapMode(QPlainTextEdit::NoWrap);
  text_->setFont(QFont(QStringLiteral("monospace"), 9));
  text_->setMaximumBlockCount(20000);
  field_ = new QLineEdit(this);
  field_->setPlaceholderText(tr("Search the log…"));
  field_->setClearButtonEnabled(true);
  count_ = new QLabel(this);
  auto* previous = new QToolButton(this);
  previous->setArrowType(Qt::UpArrow);
  auto* next = new QToolButton(this);
  next->setArrowType(Qt::DownArrow);
  auto* bar = new QHBoxLayout();
  bar->addWidget(field_, 1);
  bar->addWidget(previous);
  bar->addWidget(next);
  bar->addWidget(count_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(bar);
  layout->addWidget(text_, 1);
  connect(field_, &QLineEdit::textChanged, this, [this](const QString& t) { search(t); });
  connect(field_, &QLineEdit::returnPressed, this, [this] { step(true); });
  connect(next, &QToolButton::clicked, this, [this] { step(true); });
  connect(previous, &QToolButton::clicked, this, [this] { step(false); });
}

void LogView::setLines(const QStringList& lines) {
  QScrollBar* bar = text_->verticalScrollBar();
  const bool at_end = bar->value() >= bar->maximum() - 2;
  const bool continues = !lines.isEmpty() && lines.first() == first_line_ && lines.size() >= shown_;
  if (!continues) {
    text_->setPlainText(lines.join('\n'));
  } else {
    for (qsizetype i = shown_; i < lines.size(); ++i) text_->appendPlainText(lines[i]);
  }
  first_line_ = lines.isEmpty() ? QString() : lines.first();
  shown_ = lines.size();
  if (at_end || !continues) {
    text_->moveCursor(QTextCursor::End);
    text_->ensureCursorVisible();
    text_->horizontalScrollBar()->setValue(0);  // lines start where they say what happened
  }
  if (!field_->text().isEmpty()) highlight();
}

QString LogView::text() const { return text_->toPlainText(); }

int LogView::search(const QString& text) {
  if (field_->text() != text) field_->setText(text);  // re-enters through textChanged
  highlight();
  if (matches_ > 0) {
    text_->moveCursor(QTextCursor::Start);
    text_->find(text);
  }
  return matches_;
}

void LogView::highlight() {
  QList<QTextEdit::ExtraSelection> selections;
  const QString needle = field_->text();
  matches_ = 0;
  if (!needle.isEmpty()) {
    QTextCursor cursor(text_->document());
    QTextCharFormat format;
    format.setBackground(QColor(255, 226, 120));
    while (!(cursor = text_->document()->find(needle, cursor)).isNull()) {
      ++matches_;
      if (selections.size() < 2000) selections.append({cursor, format});
    }
  }
  text_->setExtraSelections(selections);
  count_->setText(needle.isEmpty() ? QString() : tr("%n match(es)", nullptr, matches_));
}

void LogView::step(bool forward) {
  const QString needle = field_->text();
  if (needle.isEmpty()) return;
  QTextDocument::FindFlags flags;
  if (!forward) flags |= QTextDocument::FindBackward;
  if (!text_->find(needle, flags)) {
    text_->moveCursor(forward ? QTextCursor::Start : QTextCursor::End);
    text_->find(needle, flags);
  }
}

}  // namespace capfilt::ui
