#pragma once
// The operating-system side of a job: start `capfilt` detached (its own session, output to files
// in the job folder, so it outlives the studio and a studio crash never reaches it), ask whether
// a recorded pid still runs that job, and signal it. Linux (/proc); the studio's platform.

#include <QString>
#include <QStringList>

#include "db/status.h"

namespace capfilt::ui {

struct DetachedLaunch {
  QString program;        // the capfilt executable
  QStringList arguments;
  QString working_dir;
  QString stdout_path;    // created (truncated) before the start
  QString stderr_path;
};

// Starts the process in a new session and returns its pid; kIoError naming the program when it
// cannot start.
Result<qint64> start_detached(const DetachedLaunch& launch);

// Whether `pid` is a live (not zombie) process whose program is a capfilt executable: a pid the
// system reused for something else counts as gone.
bool job_process_alive(qint64 pid);

// SIGTERM: a training job writes a checkpoint and exits; CapFilt stops between batches.
bool request_stop(qint64 pid);

}  // namespace capfilt::ui
