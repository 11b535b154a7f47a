#pragma once
// The models the studio's views run, opened off the GUI thread and kept open: one
// core::BlipEngine per model path, shared by every view that asks for it (the caption & VQA demo,
// the retrieval explorer). Opening a base model takes seconds; a view asks with request(), shows
// "loading", and gets ready() or failed() back on the GUI thread.
//
// GUI thread. Engines are handed out as shared_ptr<const BlipEngine>: a worker thread that holds
// one keeps it alive even if the cache is destroyed; BlipEngine's methods are thread-safe.

#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThreadPool>
#include <functional>
#include <memory>
#include <string>

#include "core/blip_engine.h"

namespace capfilt::ui {

class EngineCache : public QObject {
  Q_OBJECT

 public:
  // Opens a model (called on a worker thread). The default opens core::BlipEngine with the given
  // vocabulary on `device`; tests pass their own.
  using Opener = std::function<Result<std::unique_ptr<core::BlipEngine>>(const std::string& path)>;
  static Opener engineOpener(const QString& vocab_path, const QString& device = "cpu");

  explicit EngineCache(Opener opener, QObject* parent = nullptr);
  ~EngineCache() override;

  // The open engine of `model_path`, or null when it is not open (yet).
  std::shared_ptr<const core::BlipEngine> engine(const QString& model_path) const;
  // Why `model_path` could not be opened ("" when it did not fail).
  QString error(const QString& model_path) const { return errors_.value(model_path); }
  bool isLoading(const QString& model_path) const { return loading_.contains(model_path); }

  // Starts opening `model_path` unless it is open or opening; a failed path is tried again.
  // ready() follows at once (queued) for a model already open.
  void request(const QString& model_path);
  // Waits for the opens in flight (tests, shutdown).
  void waitForDone() { pool_.waitForDone(); }

 Q_SIGNALS:
  void ready(const QString& model_path);
  void failed(const QString& model_path, const QString& message);

 private:
  Opener opener_;
  QHash<QString, std::shared_ptr<const core::BlipEngine>> engines_;
  QHash<QString, QString> errors_;
  QSet<QString> loading_;
  QThreadPool pool_;
};

}  // namespace capfilt::ui
