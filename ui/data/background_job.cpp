#include "ui/data/background_job.h"

#include <QPointer>

namespace capfilt::ui {

void BackgroundJob::Context::report(qint64 done, qint64 total, const QString& text) {
  QMetaObject::invokeMethod(
      job_, [job = job_, done, total, text] { Q_EMIT job->progress(done, total, text); },
      Qt::QueuedConnection);
}

BackgroundJob::BackgroundJob(QObject* parent) : QObject(parent) {}

BackgroundJob::~BackgroundJob() {
  cancel();
  wait();
  delete thread_;
}

void BackgroundJob::wait() {
  if (thread_) thread_->wait();
}

void BackgroundJob::start(Work work) {
  wait();
  delete thread_;
  cancel_ = false;
  thread_ = QThread::create([this, work] {
    Context context(this);
    Result<QString> result = work(context);
    const bool ok = result.is_ok();
    const QString report =
        ok ? result.value() : QString::fromStdString(result.status().message());
    QMetaObject::invokeMethod(
        this, [this, ok, report] { Q_EMIT finished(ok, report); }, Qt::QueuedConnection);
  });
  thread_->start();
}

}  // namespace capfilt::ui
