#include "ui/jobs/job_process.h"

#include <signal.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>

namespace capfilt::ui {

Result<qint64> start_detached(const DetachedLaunch& launch) {
  // Create the files first: the follower opens stdout at once, before the child has written.
  for (const QString& path : {launch.stdout_path, launch.stderr_path}) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
      return Status::io_error(path.toStdString() + ": cannot create the job's log: " +
                              file.errorString().toStdString());
  }
  QProcess process;
  process.setProgram(launch.program);
  process.setArguments(launch.arguments);
  process.setWorkingDirectory(launch.working_dir);
  process.setStandardOutputFile(launch.stdout_path, QIODevice::Append);
  process.setStandardErrorFile(launch.stderr_path, QIODevice::Append);
  // OpenMP threads that busy-wait would steal the cores of the studio's GUI and worker threads.
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  if (!env.contains(QStringLiteral("OMP_WAIT_POLICY")))
    env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("PASSIVE"));
  process.setProcessEnvironment(env);
  qint64 pid = 0;
  // Qt starts a detached process in its own session (setsid): closing the studio, or a signal to
  // the studio's process group, leaves the job running.
  if (!process.startDetached(&pid) || pid <= 0)
    return Status::io_error("cannot start " + launch.program.toStdString() + ": " +
                            process.errorString().toStdString());
  return pid;
}

bool job_process_alive(qint64 pid) {
  if (pid <= 0) return false;
  QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
  if (!stat.open(QIODevice::ReadOnly)) return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may contain spaces or parentheses).
  const QByteArray text = stat.readAll();
  const qsizetype close = text.lastIndexOf(')');
  if (close < 0 || close + 2 >= text.size()) return false;
  const char state = text.at(close + 2);
  if (state == 'Z' || state == 'X') return false;
  QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
  if (!cmdline.open(QIODevice::ReadOnly)) return false;
  const QByteArray argv0 = cmdline.readAll().split('\0').value(0);
  return QFileInfo(QString::fromLocal8Bit(argv0)).fileName().contains(QStringLiteral("capfilt"));
}

bool request_stop(qint64 pid) {
  return job_process_alive(pid) && ::kill(static_cast<pid_t>(pid), SIGTERM) == 0;
}

}  // namespace capfilt::ui
