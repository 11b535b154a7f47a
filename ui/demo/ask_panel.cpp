#include "ui/demo/ask_panel.h"

#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

namespace capfilt::ui {

AskPanel::AskPanel(QWidget* parent) : QWidget(parent) {
  question_ = new QLineEdit(this);
  question_->setPlaceholderText(tr("e.g. what color is the circle?"));
  candidates_ = new QLineEdit(this);
  candidates_->setPlaceholderText(tr("optional: candidate answers to rank, separated by commas"));
  ask_ = new QPushButton(tr("Ask"), this);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setStyleSheet("color: #a01010;");
  message_->hide();
  table_ = new QTableWidget(0, 3, this);
  table_->setHorizontalHeaderLabels({tr("Answer"), tr("log p"), tr("p")});
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);

  auto* grid = new QGridLayout;
  grid->addWidget(new QLabel(tr("Question"), this), 0, 0);
  grid->addWidget(question_, 0, 1);
  grid->addWidget(ask_, 0, 2);
  grid->addWidget(new QLabel(tr("Answers"), this), 1, 0);
  grid->addWidget(candidates_, 1, 1, 1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(grid);
  layout->addWidget(message_);
  layout->addWidget(table_, 1);
  connect(ask_, &QPushButton::clicked, this, &AskPanel::askRequested);
  connect(question_, &QLineEdit::returnPressed, this, &AskPanel::askRequested);
  connect(candidates_, &QLineEdit::returnPressed, this, &AskPanel::askRequested);
}

QString AskPanel::question() const {
  return question_->text().trimmed();
}
void AskPanel::setQuestion(const QString& question) {
  question_->setText(question);
}
void AskPanel::setCandidates(const QString& text) {
  candidates_->setText(text);
}
void AskPanel::setRunnable(bool runnable) {
  ask_->setEnabled(runnable);
}

std::vector<std::string> AskPanel::candidates() const {
  std::vector<std::string> out;
  for (const QString& part : candidates_->text().split(QRegularExpression("[,\\n]"))) {
    const QString answer = part.trimmed();
    if (!answer.isEmpty()) out.push_back(answer.toStdString());
  }
  return out;
}

void AskPanel::showAnswers(const std::vector<core::GeneratedText>& answers, bool ranked) {
  answers_ = answers;
  message_->hide();
  table_->setRowCount(static_cast<int>(answers.size()));
  // Ranked candidates: their share of the candidates' probability mass as well.
  double total = 0;
  for (const auto& a : answers) total += std::exp(a.log_prob);
  for (int r = 0; r < static_cast<int>(answers.size()); ++r) {
    const auto& a = answers[static_cast<size_t>(r)];
    table_->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(a.text)));
    table_->setItem(r, 1, new QTableWidgetItem(QString::number(a.log_prob, 'f', 3)));
    const double p = ranked && total > 0 ? std::exp(a.log_prob) / total : std::exp(a.log_prob);
    table_->setItem(r, 2, new QTableWidgetItem(QString::number(p, 'f', 3)));
  }
  table_->horizontalHeaderItem(2)->setText(ranked ? tr("share") : tr("p"));
}

void AskPanel::showError(const QString& message) {
  message_->setText(message);
  message_->show();
}

}  // namespace capfilt::ui
