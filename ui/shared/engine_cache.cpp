#include "ui/shared/engine_cache.h"

#include <QPointer>

namespace capfilt::ui {

EngineCache::Opener EngineCache::engineOpener(const QString& vocab_path, const QString& device) {
  return [vocab = vocab_path.toStdString(), dev = device.toStdString()](const std::string& path) {
    core::EngineOptions options;
    options.model_path = path;
    options.vocab_path = vocab;
    options.device = dev;
    return core::BlipEngine::open(options);
  };
}

EngineCache::EngineCache(Opener opener, QObject* parent)
    : QObject(parent), opener_(std::move(opener)) {
  pool_.setMaxThreadCount(1);  // one model at a time: opening is memory-bound, not CPU-bound
}

EngineCache::~EngineCache() {
  pool_.clear();
  pool_.waitForDone();
}

std::shared_ptr<const core::BlipEngine> EngineCache::engine(const QString& model_path) const {
  return engines_.value(model_path);
}

void EngineCache::request(const QString& model_path) {
  if (model_path.isEmpty() || loading_.contains(model_path)) return;
  if (engines_.contains(model_path)) {
    QMetaObject::invokeMethod(
        this, [this, model_path] { Q_EMIT ready(model_path); }, Qt::QueuedConnection);
    return;
  }
  loading_.insert(model_path);
  errors_.remove(model_path);
  QPointer<EngineCache> self(this);
  Opener open = opener_;
  pool_.start([self, open, model_path] {
    auto opened = open(model_path.toStdString());
    std::shared_ptr<const core::BlipEngine> engine;
    QString message;
    if (opened) {
      engine = std::move(opened).value();
    } else {
      message = QString::fromStdString(opened.status().message());
    }
    // The destructor waits for this task; the queued call is dropped if the cache is gone.
    QMetaObject::invokeMethod(
        self.data(),
        [self, model_path, engine, message] {
          if (!self) return;
          self->loading_.remove(model_path);
          if (engine) {
            self->engines_.insert(model_path, engine);
            Q_EMIT self->ready(model_path);
          } else {
            self->errors_.insert(model_path, message);
            Q_EMIT self->failed(model_path, message);
          }
        },
        Qt::QueuedConnection);
  });
}

}  // namespace capfilt::ui
