#include "ui/shared/page_fetcher.h"

namespace capfilt::ui {

PageFetcher::PageFetcher(const QString& project_path, QObject* parent)
    : QObject(parent), worker_(new QObject), path_(project_path) {
  qRegisterMetaType<std::shared_ptr<const db::Page>>("std::shared_ptr<const db::Page>");
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.start();
  // Opened now, while the caller knows the project opens (opening may need a moment of the write
  // lock); a later request retries when this failed.
  QMetaObject::invokeMethod(worker_, [this] { open(); }, Qt::BlockingQueuedConnection);
}

bool PageFetcher::open() {
  if (project_) return true;
  db::OpenOptions options;
  options.create_if_missing = false;
  auto opened = db::Project::open(path_.toStdString(), options);
  if (!opened) {
    open_error_ = QString::fromStdString(opened.status().message());
    return false;
  }
  project_ = std::move(opened.value());
  return true;
}

PageFetcher::~PageFetcher() {
  latest_ = ~quint64{0};  // everything queued is stale now
  QMetaObject::invokeMethod(worker_, [this] { project_.reset(); }, Qt::BlockingQueuedConnection);
  thread_.quit();
  thread_.wait();
}

void PageFetcher::request(quint64 generation, qint64 page, const db::PageRequest& request) {
  QMetaObject::invokeMethod(
      worker_,
      [this, generation, page, request] {
        if (generation < latest_) return;  // the query changed meanwhile
        if (!open()) {
          Q_EMIT fetched(generation, page, nullptr, open_error_);
          return;
        }
        auto result = project_->page(request);
        if (!result) {
          Q_EMIT fetched(generation, page, nullptr, QString::fromStdString(result.status().message()));
          return;
        }
        Q_EMIT fetched(generation, page, std::make_shared<const db::Page>(std::move(result.value())),
                       QString());
      },
      Qt::QueuedConnection);
}

}  // namespace capfilt::ui
