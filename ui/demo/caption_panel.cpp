#include "ui/demo/caption_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

namespace capfilt::ui {
namespace {

QString score_text(double value) {
  return std::isnan(value) ? QStringLiteral("—") : QString::number(value, 'f', 3);
}

}  // namespace

CaptionPanel::CaptionPanel(QWidget* parent) : QWidget(parent) {
  method_ = new QComboBox(this);
  method_->addItem(tr("Beam search"), "beam");
  method_->addItem(tr("Nucleus sampling"), "nucleus");
  method_->addItem(tr("Greedy"), "greedy");
  beams_ = new QSpinBox(this);
  beams_->setRange(1, 16);
  count_ = new QSpinBox(this);
  count_->setRange(1, 16);
  top_p_ = new QDoubleSpinBox(this);
  top_p_->setRange(0.05, 1.0);
  top_p_->setSingleStep(0.05);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0.05, 5.0);
  temperature_->setSingleStep(0.1);
  min_length_ = new QSpinBox(this);
  min_length_->setRange(1, 100);
  max_length_ = new QSpinBox(this);
  max_length_->setRange(2, 100);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1'000'000'000);
  prompt_ = new QLineEdit(this);
  prompt_->setPlaceholderText(tr("text the caption starts with (kept out of it)"));
  run_ = new QPushButton(tr("Caption"), this);
  run_->setDefault(true);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->hide();
  table_ = new QTableWidget(0, 4, this);
  table_->setHorizontalHeaderLabels({tr("Caption"), tr("log p"), tr("ITM"), tr("ITC")});
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int c = 1; c < 4; ++c)
    table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setToolTip(tr("Click a caption to score it and see its Grad-CAM"));

  auto* grid = new QGridLayout;
  grid->addWidget(new QLabel(tr("Method"), this), 0, 0);
  grid->addWidget(method_, 0, 1);
  grid->addWidget(new QLabel(tr("Beams"), this), 0, 2);
  grid->addWidget(beams_, 0, 3);
  grid->addWidget(new QLabel(tr("Captions"), this), 0, 4);
  grid->addWidget(count_, 0, 5);
  grid->addWidget(new QLabel(tr("Top-p"), this), 1, 0);
  grid->addWidget(top_p_, 1, 1);
  grid->addWidget(new QLabel(tr("Temperature"), this), 1, 2);
  grid->addWidget(temperature_, 1, 3);
  grid->addWidget(new QLabel(tr("Seed"), this), 1, 4);
  grid->addWidget(seed_, 1, 5);
  grid->addWidget(new QLabel(tr("Length"), this), 2, 0);
  auto* lengths = new QHBoxLayout;
  lengths->addWidget(min_length_);
  lengths->addWidget(new QLabel(tr("to"), this));
  lengths->addWidget(max_length_);
  grid->addLayout(lengths, 2, 1);
  grid->addWidget(new QLabel(tr("Prompt"), this), 2, 2);
  grid->addWidget(prompt_, 2, 3, 1, 2);
  grid->addWidget(run_, 2, 5);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(grid);
  layout->addWidget(message_);
  layout->addWidget(table_, 1);

  setOptions(core::beam_caption_defaults());
  connect(method_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &CaptionPanel::updateEnabled);
  connect(run_, &QPushButton::clicked, this, &CaptionPanel::captionRequested);
  connect(prompt_, &QLineEdit::returnPressed, this, &CaptionPanel::captionRequested);
  connect(table_, &QTableWidget::cellClicked, this, [this](int row, int) {
    if (row >= 0 && row < static_cast<int>(rows_.size()))
      Q_EMIT captionChosen(QString::fromStdString(rows_[static_cast<size_t>(row)].text));
  });
}

core::CaptionOptions CaptionPanel::options() const {
  core::CaptionOptions o;
  core::parse(method_->currentData().toString().toStdString(), &o.method);
  o.num_beams = beams_->value();
  o.num_captions = count_->value();
  o.top_p = static_cast<float>(top_p_->value());
  o.temperature = static_cast<float>(temperature_->value());
  o.min_length = min_length_->value();
  o.max_length = max_length_->value();
  o.seed = static_cast<uint64_t>(seed_->value());
  o.prompt = prompt_->text().toStdString();
  return o;
}

void CaptionPanel::setOptions(const core::CaptionOptions& o) {
  method_->setCurrentIndex(method_->findData(QString(core::to_string(o.method))));
  beams_->setValue(o.num_beams);
  count_->setValue(o.num_captions);
  top_p_->setValue(o.top_p);
  temperature_->setValue(o.temperature);
  min_length_->setValue(o.min_length);
  max_length_->setValue(o.max_length);
  seed_->setValue(static_cast<int>(o.seed));
  prompt_->setText(QString::fromStdString(o.prompt));
  updateEnabled();
}

void CaptionPanel::updateEnabled() {
  const QString method = method_->currentData().toString();
  beams_->setEnabled(method == "beam");
  top_p_->setEnabled(method == "nucleus");
  temperature_->setEnabled(method == "nucleus");
  seed_->setEnabled(method == "nucleus");
}

void CaptionPanel::setRunnable(bool runnable) {
  run_->setEnabled(runnable);
}

void CaptionPanel::showCaptions(const std::vector<CaptionRow>& rows) {
  rows_ = rows;
  message_->hide();
  table_->setRowCount(static_cast<int>(rows.size()));
  for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
    const CaptionRow& row = rows[static_cast<size_t>(r)];
    auto* text = new QTableWidgetItem(QString::fromStdString(row.text));
    text->setToolTip(text->text());
    table_->setItem(r, 0, text);
    table_->setItem(r, 1, new QTableWidgetItem(QString::number(row.log_prob, 'f', 3)));
    table_->setItem(r, 2, new QTableWidgetItem(score_text(row.itm)));
    table_->setItem(r, 3, new QTableWidgetItem(score_text(row.itc)));
  }
}

void CaptionPanel::showError(const QString& message) {
  message_->setText(message);
  message_->setStyleSheet("color: #a01010;");
  message_->show();
}

}  // namespace capfilt::ui
