#pragma once
// The demo's question part: a question, optionally a list of candidate answers (one per line or
// separated by commas); DemoView answers with the captioner model (generated answers) or ranks the
// candidates (a model with a question encoder and answer decoder). Widgets only.

#include <QStringList>
#include <QWidget>
#include <string>
#include <vector>

#include "core/blip_engine.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace capfilt::ui {

class AskPanel : public QWidget {
  Q_OBJECT

 public:
  explicit AskPanel(QWidget* parent = nullptr);

  QString question() const;
  void setQuestion(const QString& question);
  std::vector<std::string> candidates() const;  // empty: generate
  void setCandidates(const QString& text);

  void showAnswers(const std::vector<core::GeneratedText>& answers, bool ranked);
  void showError(const QString& message);
  void setRunnable(bool runnable);
  QPushButton* askButton() const { return ask_; }
  const std::vector<core::GeneratedText>& answers() const { return answers_; }

 Q_SIGNALS:
  void askRequested();

 private:
  QLineEdit* question_;
  QLineEdit* candidates_;
  QPushButton* ask_;
  QLabel* message_;
  QTableWidget* table_;
  std::vector<core::GeneratedText> answers_;
};

}  // namespace capfilt::ui
