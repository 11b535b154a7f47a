#pragma once
// Scores a curator's corrected caption at once, off the GUI thread: the filter's ITM and ITC of
// (image, new caption) are computed on a worker thread and stored with the project's scores, so
// the review shows them a moment after the edit. The scoring function is passed in (app/ wires
// core::BlipEngine::score; tests pass a fake), so ui/ never waits on the model.
//
// GUI thread; the scoring function must be safe to call from a worker thread (BlipEngine is).

#include <QObject>
#include <QString>
#include <QThreadPool>

#include <functional>
#include <utility>

#include "db/status.h"

namespace capfilt::ui {

class ProjectDocument;

class CaptionScorer : public QObject {
  Q_OBJECT

 public:
  // (image file, caption) -> (ITM, ITC).
  using ScoreFn = std::function<Result<std::pair<double, double>>(const std::string& image_file,
                                                                   const std::string& text)>;
  // Scores are stored under `model_id` (the filter's row in the project's models).
  CaptionScorer(ProjectDocument* document, ScoreFn score, int64_t model_id, QObject* parent = nullptr);
  ~CaptionScorer() override;

  void score(qint64 caption_id, const QString& image_path, const QString& text);
  void waitForDone() { pool_.waitForDone(); }

 Q_SIGNALS:
  void scored(qint64 caption_id, double itm, double itc);
  void failed(qint64 caption_id, const QString& message);

 private:
  ProjectDocument* document_;
  ScoreFn score_;
  int64_t model_id_;
  QThreadPool pool_;
};

}  // namespace capfilt::ui
