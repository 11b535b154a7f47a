#pragma once
// Runs one long piece of work (an import, an export) on its own thread, with progress and cancel.
// The work gets a Context: report() posts progress to the GUI thread by queued call, cancelled()
// is polled between batches. The work opens its own db::Project connection (one per thread).
//
// GUI thread owns the job; destroying it cancels the work and waits for the thread.

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <functional>

#include "db/status.h"

namespace capfilt::ui {

class BackgroundJob : public QObject {
  Q_OBJECT

 public:
  class Context {
   public:
    explicit Context(BackgroundJob* job) : job_(job) {}
    void report(qint64 done, qint64 total, const QString& text);
    bool cancelled() const { return job_->cancel_.load(); }

   private:
    BackgroundJob* job_;
  };
  // The work returns its closing report (shown to the user) or the Status that stopped it.
  using Work = std::function<Result<QString>(Context&)>;

  explicit BackgroundJob(QObject* parent = nullptr);
  ~BackgroundJob() override;

  void start(Work work);
  void cancel() { cancel_ = true; }
  bool running() const { return thread_ && thread_->isRunning(); }
  void wait();

 Q_SIGNALS:
  void progress(qint64 done, qint64 total, const QString& text);
  void finished(bool ok, const QString& report);

 private:
  QThread* thread_ = nullptr;
  std::atomic<bool> cancel_{false};
};

}  // namespace capfilt::ui
