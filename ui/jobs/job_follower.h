#pragma once
// Follows a job running in its own process through the file its JSON-lines progress goes to: a
// timer reads what was appended and watches the pid. The same follower serves a job this studio
// just started and one it finds running when it opens a project (reattach), since both are only
// a log file and a pid. When the pid is gone it reads the rest and reports the end.
//
// Thread affinity: the GUI thread (a timer; reads are small appends).

#include <QFile>
#include <QObject>
#include <QString>
#include <QTimer>

#include "ui/shared/progress_line_reader.h"

namespace capfilt::ui {

class JobFollower : public QObject {
  Q_OBJECT

 public:
  // Reads `log_path` from its beginning (so a reattached job's charts are rebuilt) and then every
  // `interval_ms`.
  JobFollower(const QString& log_path, qint64 pid, QObject* parent = nullptr, int interval_ms = 200);

  QString logPath() const { return path_; }
  qint64 pid() const { return pid_; }
  bool sawFinished() const { return saw_finished_; }
  bool isEnded() const { return ended_; }
  // Reads now (what the timer does).
  void poll();

 Q_SIGNALS:
  void line(const capfilt::ui::ProgressLine& line);
  // The process is gone and its log read to the end; sawFinished() says whether it ended cleanly.
  void ended();

 private:
  void readAvailable();

  QString path_;
  qint64 pid_;
  QFile file_;
  qint64 offset_ = 0;
  ProgressLineReader reader_;
  QTimer timer_;
  bool saw_finished_ = false;
  bool ended_ = false;
};

}  // namespace capfilt::ui
