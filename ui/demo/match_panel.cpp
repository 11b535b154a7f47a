#include "ui/demo/match_panel.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

namespace capfilt::ui {

MatchPanel::MatchPanel(QWidget* parent) : QWidget(parent) {
  edit_ = new QLineEdit(this);
  edit_->setPlaceholderText(tr("Type a caption: its ITM and ITC follow as you type"));
  edit_->setClearButtonEnabled(true);
  scores_ = new QLabel(this);
  scores_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  words_ = new QListWidget(this);
  words_->setFlow(QListView::LeftToRight);
  words_->setWrapping(true);
  words_->setResizeMode(QListView::Adjust);
  words_->setSpacing(2);
  words_->setMaximumHeight(64);
  words_->setToolTip(tr("The word whose Grad-CAM map is laid over the image"));
  layer_ = new QSpinBox(this);
  layer_->setRange(-1, 0);
  layer_->setValue(-1);
  layer_->setSpecialValueText(tr("default"));
  layer_->setToolTip(
      tr("Cross-attention layer of the image-grounded encoder (from 0); default: "
         "the 8th of 12, scaled to the model"));
  opacity_ = new QSlider(Qt::Horizontal, this);
  opacity_->setRange(0, 100);
  opacity_->setValue(80);

  auto* settings = new QHBoxLayout;
  settings->addWidget(new QLabel(tr("Layer"), this));
  settings->addWidget(layer_);
  settings->addSpacing(12);
  settings->addWidget(new QLabel(tr("Overlay"), this));
  settings->addWidget(opacity_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(edit_);
  layout->addWidget(scores_);
  layout->addWidget(new QLabel(tr("Grad-CAM of the word:"), this));
  layout->addWidget(words_);
  layout->addLayout(settings);

  debounce_.setSingleShot(true);
  debounce_.setInterval(300);
  connect(edit_, &QLineEdit::textChanged, this, [this] { debounce_.start(); });
  connect(&debounce_, &QTimer::timeout, this, [this] { Q_EMIT textSettled(text()); });
  connect(layer_, qOverload<int>(&QSpinBox::valueChanged), this, [this] { debounce_.start(); });
  connect(words_, &QListWidget::currentRowChanged, this, &MatchPanel::heatChanged);
  connect(opacity_, &QSlider::valueChanged, this,
          [this](int v) { Q_EMIT opacityChanged(v / 100.0); });
  clearResults();
}

QString MatchPanel::text() const {
  return edit_->text().trimmed();
}
void MatchPanel::setText(const QString& text) {
  edit_->setText(text);
}
int MatchPanel::layer() const {
  return layer_->value();
}
double MatchPanel::overlayOpacity() const {
  return opacity_->value() / 100.0;
}

void MatchPanel::setLayerRange(int layers) {
  layer_->setRange(-1, std::max(0, layers - 1));
}

void MatchPanel::clearResults() {
  scores_->setText(tr("ITM —   ITC —"));
  cam_ = {};
  words_->clear();
  Q_EMIT heatChanged();
}

QString MatchPanel::scoreText() const {
  return scores_->text();
}

void MatchPanel::showScores(const core::PairScore& score) {
  const QString itc =
      std::isnan(score.itc) ? QStringLiteral("—") : QString::number(score.itc, 'f', 3);
  scores_->setStyleSheet({});
  scores_->setText(tr("ITM %1   ITC %2").arg(QString::number(score.itm, 'f', 3), itc));
}

void MatchPanel::showError(const QString& message) {
  scores_->setStyleSheet("color: #a01010;");
  scores_->setText(message);
}

void MatchPanel::showGradCam(const core::GradCam& cam) {
  const QString keep = selectedWord();
  cam_ = cam;
  {
    const QSignalBlocker block(words_);
    words_->clear();
    words_->addItem(tr("(all words)"));
    for (const auto& w : cam.words) words_->addItem(QString::fromStdString(w.word));
    words_->setCurrentRow(0);
  }
  if (!keep.isEmpty()) selectWord(keep);
  Q_EMIT heatChanged();
}

QStringList MatchPanel::words() const {
  QStringList out;
  for (const auto& w : cam_.words) out << QString::fromStdString(w.word);
  return out;
}

bool MatchPanel::selectWord(const QString& word) {
  for (int i = 0; i < static_cast<int>(cam_.words.size()); ++i) {
    if (QString::fromStdString(cam_.words[static_cast<size_t>(i)].word) == word) {
      words_->setCurrentRow(i + 1);
      return true;
    }
  }
  return false;
}

QString MatchPanel::selectedWord() const {
  const int row = words_->currentRow();
  if (row <= 0 || row > static_cast<int>(cam_.words.size())) return {};
  return QString::fromStdString(cam_.words[static_cast<size_t>(row - 1)].word);
}

std::vector<float> MatchPanel::selectedHeat() const {
  const int row = words_->currentRow();
  if (row < 0 || cam_.overall.empty()) return {};
  if (row == 0 || row > static_cast<int>(cam_.words.size())) return cam_.overall;
  return cam_.words[static_cast<size_t>(row - 1)].heat;
}

}  // namespace capfilt::ui
