#pragma once
// The studio's window: the start page until a project is open, then Browse, Review, Thresholds,
// Jobs and Models tabs over one ProjectDocument, the undo history in a dock, and a status bar with the counts per
// decision and, while another process holds the project's write lock, a retrying message.
//
// Owns the document, the thumbnail caches and the views; `settings` is not owned.

#include <QMainWindow>

#include <functional>
#include <memory>
#include <string>

#include "ui/review/caption_scorer.h"

class QLabel;
class QStackedWidget;
class QTabWidget;
class QDockWidget;

namespace capfilt::core {
class ThumbnailCache;
}

namespace capfilt::ui {

class BrowseView;
class DemoProjectRunner;
class JobsPanel;
class ModelsPanel;
class DemoView;
class EngineCache;
class ProjectDocument;
class RetrievalView;
class ReviewView;
class StartPage;
class StudioSettings;
class ThresholdView;
class ThumbnailLoader;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  struct Options {
    QString thumbnail_dir;  // where thumbnails are cached
    QString capfilt_program;  // the capfilt executable (demo-project); found beside this one by default
    QString demo_dir;       // where the demo project is built
    // Scores corrected captions on a worker thread (app/ wires the filter model); empty = none.
    // Scores go under the project's newest filter model.
    // The scorer of edited captions for the project's filter model (its checkpoint path); empty:
    // edited captions are not scored. app/ wires core::BlipEngine.
    std::function<CaptionScorer::ScoreFn(const std::string& model_path)> scorer_for_model;
    QString vocab_path;  // the tokenizer's vocab.txt, for the views that load a model
  };
  MainWindow(StudioSettings* settings, const Options& options, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a project; false (after telling the user, unless quiet) when the store refuses it.
  bool openProject(const QString& path, bool create = false, bool quiet = false);
  void closeProject();
  // Opens the demo project, building it first with `capfilt demo-project` when it is not there.
  void openDemo();

  ProjectDocument* document() const { return document_.get(); }
  ReviewView* review() const { return review_; }
  BrowseView* browse() const { return browse_; }
  ThresholdView* thresholds() const { return thresholds_; }
  RetrievalView* retrieval() const { return retrieval_; }
  JobsPanel* jobs() const { return jobs_; }
  ModelsPanel* models() const { return models_; }
  DemoView* demo() const { return demo_; }
  EngineCache* engines() const { return engines_.get(); }
  StartPage* startPage() const { return start_; }
  QTabWidget* tabs() const { return tabs_; }
  QString statusText() const;

  // Renders the start page and every view to <dir>/<name>.png (offscreen too). Returns the files.
  QStringList saveScreenshots(const QString& dir);

 private:
  void buildMenus();
  QString capfiltProgram() const;
  void newProject();
  void chooseProject();
  void askCurator();
  void editShortcuts();
  void reloadUndoKeys();
  void updateCounts();
  QString guessImagesRoot(const QString& project_path);

  StudioSettings* settings_;
  Options options_;
  std::unique_ptr<core::ThumbnailCache> thumbnail_cache_;
  std::unique_ptr<ProjectDocument> document_;
  std::unique_ptr<ThumbnailLoader> small_images_;
  std::unique_ptr<ThumbnailLoader> large_images_;
  std::unique_ptr<CaptionScorer> scorer_;
  std::unique_ptr<EngineCache> engines_;  // the models the views run, shared by them
  QStackedWidget* stack_;
  StartPage* start_;
  QTabWidget* tabs_ = nullptr;
  BrowseView* browse_ = nullptr;
  ReviewView* review_ = nullptr;
  ThresholdView* thresholds_ = nullptr;
  RetrievalView* retrieval_ = nullptr;
  JobsPanel* jobs_ = nullptr;
  ModelsPanel* models_ = nullptr;
  DemoView* demo_ = nullptr;
  QDockWidget* history_ = nullptr;
  QAction* undo_ = nullptr;
  QAction* redo_ = nullptr;
  DemoProjectRunner* demo_runner_;
  QLabel* counts_;
  QLabel* lock_;
};

}  // namespace capfilt::ui
