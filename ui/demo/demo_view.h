#pragma once
// The "Caption & VQA" tab: an image (opened, dropped or picked from the project), a captioner and a
// scorer model (ModelSelector each, opened through the shared EngineCache), and three parts that
// run them: captions with their log-probability and ITM/ITC (CaptionPanel), a typed caption scored
// as it is typed with its Grad-CAM over the image and a word picker (MatchPanel), and questions
// answered or candidate answers ranked (AskPanel).
//
// Every model call runs on the DemoWorker's thread; results that belong to an image or a text that
// has changed since are dropped. GUI thread. `engines` and `document` (may be null) are not owned
// and must outlive the view.

#include <QString>
#include <QWidget>
#include <memory>

#include "ui/demo/demo_session.h"

class QLabel;
class QPushButton;

namespace capfilt::ui {

class AskPanel;
class CaptionPanel;
class DemoWorker;
class EngineCache;
class ImageCanvas;
class MatchPanel;
class ModelSelector;
class ProjectDocument;

class DemoView : public QWidget {
  Q_OBJECT

 public:
  // demo_models_folder: where `capfilt demo-models` trained (its models are offered); may be empty.
  DemoView(EngineCache* engines, ProjectDocument* document, const QString& demo_models_folder,
           QWidget* parent = nullptr);
  ~DemoView() override;

  // Loads the image on the worker thread; imageLoaded or a message follows.
  void openImage(const QString& path);
  QString imagePath() const { return image_path_; }
  QString statusText() const;
  // The project's models, again (after a job added one).
  void refreshModels();

  CaptionPanel* captionPanel() const { return caption_; }
  MatchPanel* matchPanel() const { return match_; }
  AskPanel* askPanel() const { return ask_; }
  ImageCanvas* canvas() const { return canvas_; }
  ModelSelector* captioner() const { return captioner_; }
  ModelSelector* scorer() const { return scorer_; }
  DemoWorker* worker() const { return worker_; }

 Q_SIGNALS:
  void imageLoaded(const QString& path);
  void captionsShown();
  void matchShown();  // scores and Grad-CAM of the typed caption
  void answersShown();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QWidget* buildTopBar();
  void chooseImageFile();
  void chooseProjectImage();
  void runCaptions();
  void runMatch(const QString& text);
  void runAsk();
  void showHeat();
  void updateState();
  EnginePtr engineOf(const ModelSelector* selector) const;

  EngineCache* engines_;
  ProjectDocument* document_;
  DemoWorker* worker_;
  ModelSelector* captioner_;
  ModelSelector* scorer_;
  QLabel* status_;
  QPushButton* from_project_;
  ImageCanvas* canvas_;
  CaptionPanel* caption_;
  MatchPanel* match_;
  AskPanel* ask_;
  QString image_path_;
  QString image_error_;
  int image_generation_ = 0;  // bumped per image; results of an older one are dropped
  int match_generation_ = 0;  // bumped per scored text
};

}  // namespace capfilt::ui
