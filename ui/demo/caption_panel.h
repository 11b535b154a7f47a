#pragma once
// The demo's captioning controls and results: method (beam search, nucleus sampling, greedy) with
// its settings (beams, top-p, temperature, min/max length, prompt, number of captions, seed) and a
// table of the captions with their log-probability and the scorer's ITM and ITC. Widgets only:
// DemoView runs the captioner and calls showCaptions.

#include <QWidget>
#include <vector>

#include "core/blip_engine.h"
#include "ui/demo/demo_session.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace capfilt::ui {

class CaptionPanel : public QWidget {
  Q_OBJECT

 public:
  explicit CaptionPanel(QWidget* parent = nullptr);

  core::CaptionOptions options() const;
  void setOptions(const core::CaptionOptions& options);

  void showCaptions(const std::vector<CaptionRow>& rows);
  void showError(const QString& message);
  // The captions shown, as the table holds them (tests).
  const std::vector<CaptionRow>& captions() const { return rows_; }
  void setRunnable(bool runnable);  // the Caption button

  QPushButton* captionButton() const { return run_; }

 Q_SIGNALS:
  void captionRequested();
  void captionChosen(const QString& text);  // a caption row was clicked

 private:
  void updateEnabled();

  QComboBox* method_;
  QSpinBox* beams_;
  QSpinBox* count_;
  QDoubleSpinBox* top_p_;
  QDoubleSpinBox* temperature_;
  QSpinBox* min_length_;
  QSpinBox* max_length_;
  QSpinBox* seed_;
  QLineEdit* prompt_;
  QPushButton* run_;
  QLabel* message_;
  QTableWidget* table_;
  std::vector<CaptionRow> rows_;
};

}  // namespace capfilt::ui
