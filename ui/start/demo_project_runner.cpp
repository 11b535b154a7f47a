#include "ui/start/demo_project_runner.h"

#include <QDir>
#include <QStringList>

#include "core/job_progress.h"
#include "ui/shared/duration_text.h"

namespace capfilt::ui {

DemoProjectRunner::DemoProjectRunner(QObject* parent) : QObject(parent) {
  connect(&process_, &QProcess::readyReadStandardOutput, this, &DemoProjectRunner::readLines);
  connect(&process_, &QProcess::finished, this, &DemoProjectRunner::finished);
  connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
    if (error == QProcess::FailedToStart)
      Q_EMIT failed(tr("Could not start %1: %2").arg(process_.program(), process_.errorString()));
  });
}

DemoProjectRunner::~DemoProjectRunner() {
  if (running()) {
    process_.kill();
    process_.waitForFinished(2000);
  }
}

void DemoProjectRunner::start(const QString& program, const QString& folder) {
  folder_ = folder;
  reader_.clear();
  finished_status_.clear();
  finished_text_.clear();
  reported_path_.clear();
  last_error_text_.clear();
  QDir().mkpath(folder);
  // OpenMP threads that busy-wait steal the cores from the studio's own GUI and worker threads:
  // the child's wait passively unless the user chose otherwise.
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  if (!env.contains(QStringLiteral("OMP_WAIT_POLICY")))
    env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("PASSIVE"));
  process_.setProcessEnvironment(env);
  process_.start(program, {QStringLiteral("demo-project"), folder, QStringLiteral("--json")});
}

void DemoProjectRunner::cancel() {
  if (running()) process_.terminate();
}

QString DemoProjectRunner::projectIn(const QString& folder, const QString& reported) {
  if (!reported.isEmpty() && QFileInfo::exists(reported)) return reported;
  const QStringList found = QDir(folder).entryList({QStringLiteral("*.capfilt")}, QDir::Files, QDir::Name);
  return found.isEmpty() ? QString() : QDir(folder).filePath(found.first());
}

QString DemoProjectRunner::describe(const core::ProgressEvent& e) {
  const QString stage = QString::fromStdString(e.stage);
  QString what;
  if (stage == QLatin1String("models: pretrain"))
    what = tr("Training the demo models, 1 of 3: pre-training on the web pairs");
  else if (stage == QLatin1String("models: captioner"))
    what = tr("Training the demo models, 2 of 3: the captioner");
  else if (stage == QLatin1String("models: filter"))
    what = tr("Training the demo models, 3 of 3: the filter");
  else if (stage.startsWith(QLatin1String("import ")))
    what = tr("Importing %1").arg(stage.mid(7));
  else if (stage == QLatin1String("capfilt"))
    what = tr("CapFilt: captioning the images and scoring their captions");
  else
    what = stage.isEmpty() ? tr("Building the demo project") : stage;
  QStringList parts;
  parts << (e.step ? tr("step %1 of %2").arg(*e.step).arg(e.total)
                   : tr("%1 of %2").arg(e.done).arg(e.total));
  if (e.eta_s) parts << eta_text(*e.eta_s);
  if (const auto loss = e.metrics.find("loss"); loss != e.metrics.end())
    parts << tr("loss %1").arg(loss->second, 0, 'f', 2);
  return what + QStringLiteral(" — ") + parts.join(QStringLiteral(", "));
}

void DemoProjectRunner::readLines() {
  for (const ProgressLine& line : reader_.feed(process_.readAllStandardOutput())) {
    if (!line.event) continue;  // not a progress line (a stray print); the stream stays usable
    const core::ProgressEvent& e = *line.event;
    switch (e.kind) {
      case core::ProgressEventKind::kStart:
        Q_EMIT progress(0, e.total, tr("%1 started").arg(QString::fromStdString(e.job_kind)));
        break;
      case core::ProgressEventKind::kProgress:
        Q_EMIT progress(e.done, e.total, describe(e));
        break;
      case core::ProgressEventKind::kMessage:
        if (e.level == "error") last_error_text_ = QString::fromStdString(e.text);
        Q_EMIT progress(-1, -1, QString::fromStdString(e.text));
        break;
      case core::ProgressEventKind::kCheckpoint: break;
      case core::ProgressEventKind::kFinished:
        finished_status_ = QString::fromStdString(e.status);
        finished_text_ = QString::fromStdString(e.text);
        reported_path_ = QString::fromStdString(e.path);
        break;
    }
  }
}

void DemoProjectRunner::finished(int exit_code, QProcess::ExitStatus status) {
  readLines();
  const QString project = projectIn(folder_, reported_path_);
  if (status == QProcess::NormalExit && exit_code == 0 && finished_status_ == "succeeded" &&
      !project.isEmpty()) {
    Q_EMIT succeeded(project);
    return;
  }
  QString why = QString::fromLocal8Bit(process_.readAllStandardError()).trimmed();
  if (why.size() > 2000) why = QStringLiteral("…") + why.right(2000);
  QString message;
  if (status != QProcess::NormalExit)
    message = tr("capfilt demo-project crashed.");
  else if (exit_code != 0)
    message = tr("capfilt demo-project failed (exit code %1).").arg(exit_code);
  else if (finished_status_ != "succeeded")
    message = tr("capfilt demo-project ended without success (%1).")
                  .arg(finished_status_.isEmpty() ? tr("no finished line") : finished_status_);
  else
    message = tr("capfilt demo-project succeeded but left no project (*.capfilt) in %1.").arg(folder_);
  if (!finished_text_.isEmpty()) message += QStringLiteral("\n") + finished_text_;
  if (!last_error_text_.isEmpty()) message += QStringLiteral("\n") + last_error_text_;
  if (!why.isEmpty()) message += tr("\n\nIts error output:\n%1").arg(why);
  Q_EMIT failed(message);
}

}  // namespace capfilt::ui
