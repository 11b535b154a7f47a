#pragma once
// A job's log as a human reads it, with a search field: every match is highlighted, Enter (or
// the arrows) moves between them, and a count says how many there are.

#include <QStringList>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace capfilt::ui {

class LogView : public QWidget {
  Q_OBJECT

 public:
  explicit LogView(QWidget* parent = nullptr);
  // Shows `lines`; appends when they continue what is shown (a live job), else replaces.
  void setLines(const QStringList& lines);
  // Searches (case-insensitive) and highlights; the number of matching places.
  int search(const QString& text);
  int matchCount() const { return matches_; }
  QString text() const;
  QLineEdit* searchField() const { return field_; }

 private:
  void highlight();
  void step(bool forward);

  QPlainTextEdit* text_;
  QLineEdit* field_;
  QLabel* count_;
  QString first_line_;
  qsizetype shown_ = 0;
  int matches_ = 0;
};

}  // namespace capfilt::ui
