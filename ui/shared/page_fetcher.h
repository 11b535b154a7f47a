#pragma once
// Fetches pages of pairs on a worker thread with its own read connection to the project, so a slow
// page (deep in a big list) never blocks the GUI thread. Results come back by queued signal,
// tagged with the caller's generation so a result for an outdated query can be dropped.
//
// Created and used on the GUI thread; the destructor stops the worker and waits for it.

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>

#include "db/project.h"

namespace capfilt::ui {

class PageFetcher : public QObject {
  Q_OBJECT

 public:
  explicit PageFetcher(const QString& project_path, QObject* parent = nullptr);
  ~PageFetcher() override;

  // Asks for `request`; `fetched` answers with the same generation and page.
  void request(quint64 generation, qint64 page, const db::PageRequest& request);
  // Requests of older generations still queued are skipped.
  void setGeneration(quint64 generation) { latest_ = generation; }

 Q_SIGNALS:
  void fetched(quint64 generation, qint64 page, std::shared_ptr<const db::Page> rows,
               const QString& error);

 private:
  bool open();  // on thread_

  QThread thread_;
  QObject* worker_;  // lives in thread_; deleted when it finishes
  std::unique_ptr<db::Project> project_;  // used only on thread_
  QString path_;
  QString open_error_;  // used only on thread_
  std::atomic<quint64> latest_{0};
};

}  // namespace capfilt::ui
