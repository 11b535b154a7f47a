#pragma once
// The demo's "type a caption" part: as the text changes (debounced), DemoView scores it with the
// scorer model (ITM, ITC) and computes its Grad-CAM; the panel shows the scores and a word picker
// whose choice selects the heat map laid over the image ("all words" = the text's mean map).
// Widgets only.

#include <QTimer>
#include <QWidget>

#include "core/blip_engine.h"

class QLabel;
class QLineEdit;
class QListWidget;
class QSlider;
class QSpinBox;

namespace capfilt::ui {

class MatchPanel : public QWidget {
  Q_OBJECT

 public:
  explicit MatchPanel(QWidget* parent = nullptr);

  QString text() const;
  void setText(const QString& text);  // as if typed (settles after the debounce)
  int debounceMs() const { return debounce_.interval(); }
  void setDebounceMs(int ms) { debounce_.setInterval(ms); }
  // Grad-CAM layer: -1 for the model's default.
  int layer() const;
  void setLayerRange(int layers);  // the scorer's depth (0: unknown)

  void showScores(const core::PairScore& score);
  void showGradCam(const core::GradCam& cam);
  void showError(const QString& message);
  void clearResults();

  // The heat map the picker selects (empty when there is none) and the word list (tests).
  std::vector<float> selectedHeat() const;
  QString selectedWord() const;
  bool selectWord(const QString& word);
  QStringList words() const;
  const core::GradCam& gradCam() const { return cam_; }
  QString scoreText() const;
  double overlayOpacity() const;

 Q_SIGNALS:
  void textSettled(const QString& text);  // after the debounce; also when the layer changes
  void heatChanged();                     // another word picked, or a new Grad-CAM
  void opacityChanged(double opacity);

 private:
  QLineEdit* edit_;
  QLabel* scores_;
  QListWidget* words_;
  QSpinBox* layer_;
  QSlider* opacity_;
  QTimer debounce_;
  core::GradCam cam_;
};

}  // namespace capfilt::ui
