#include "ui/review/caption_scorer.h"

#include <QPointer>

#include "ui/shared/project_document.h"

namespace capfilt::ui {

CaptionScorer::CaptionScorer(ProjectDocument* document, ScoreFn score, int64_t model_id,
                             QObject* parent)
    : QObject(parent), document_(document), score_(std::move(score)), model_id_(model_id) {
  pool_.setMaxThreadCount(1);
  connect(document_, &ProjectDocument::captionAdded, this, &CaptionScorer::score);
}

CaptionScorer::~CaptionScorer() { pool_.waitForDone(); }

void CaptionScorer::score(qint64 caption_id, const QString& image_path, const QString& text) {
  const std::string file = document_->absoluteImagePath(image_path).toStdString();
  const std::string caption = text.toStdString();
  ScoreFn fn = score_;
  QPointer<CaptionScorer> self(this);
  pool_.start([fn, file, caption, caption_id, self] {
    auto result = fn(file, caption);
    // The destructor waits for this task; the queued call is dropped if the scorer is gone.
    QMetaObject::invokeMethod(
        self.data(),
        [self, caption_id, result] {
          if (!self) return;
          if (!result) {
            Q_EMIT self->failed(caption_id, QString::fromStdString(result.status().message()));
            return;
          }
          const db::Score score{caption_id, self->model_id_, result->first, result->second};
          self->document_->write([score](db::Project& p) { return p.put_scores({score}); },
                                 QObject::tr("Storing the scores of caption #%1").arg(caption_id),
                                 {caption_id});
          Q_EMIT self->scored(caption_id, result->first, result->second);
        },
        Qt::QueuedConnection);
  });
}

}  // namespace capfilt::ui
