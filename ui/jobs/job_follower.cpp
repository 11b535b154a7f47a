#include "ui/jobs/job_follower.h"

#include "ui/jobs/job_process.h"

namespace capfilt::ui {

JobFollower::JobFollower(const QString& log_path, qint64 pid, QObject* parent, int interval_ms)
    : QObject(parent), path_(log_path), pid_(pid), file_(log_path) {
  timer_.setInterval(interval_ms);
  connect(&timer_, &QTimer::timeout, this, &JobFollower::poll);
  timer_.start();
  QTimer::singleShot(0, this, &JobFollower::poll);
}

void JobFollower::readAvailable() {
  if (path_.isEmpty()) return;  // a job started elsewhere that recorded no log: its pid only
  if (!file_.isOpen() && !file_.open(QIODevice::ReadOnly)) return;  // not written yet
  if (file_.size() < offset_) offset_ = 0;  // truncated: a new run in the same file
  if (!file_.seek(offset_)) return;
  const QByteArray bytes = file_.readAll();
  offset_ += bytes.size();
  for (const ProgressLine& l : reader_.feed(bytes)) {
    if (l.event && l.event->kind == core::ProgressEventKind::kFinished) saw_finished_ = true;
    Q_EMIT line(l);
  }
}

void JobFollower::poll() {
  if (ended_) return;
  // Ask first, read second: whatever the process wrote before it died is then read below.
  const bool alive = job_process_alive(pid_);
  readAvailable();
  if (alive) return;
  for (const ProgressLine& l : reader_.flush()) {
    if (l.event && l.event->kind == core::ProgressEventKind::kFinished) saw_finished_ = true;
    Q_EMIT line(l);
  }
  ended_ = true;
  timer_.stop();
  Q_EMIT ended();
}

}  // namespace capfilt::ui
