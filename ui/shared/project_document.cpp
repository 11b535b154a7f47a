#include "ui/shared/project_document.h"

#include <QDir>

#include "ui/shared/decide_command.h"

namespace capfilt::ui {

Result<std::unique_ptr<ProjectDocument>> ProjectDocument::open(const QString& path,
                                                               const QString& curator,
                                                               bool create,
                                                               const Options& options) {
  db::OpenOptions open_options;
  open_options.create_if_missing = create;
  open_options.busy_timeout_ms = options.busy_timeout_ms;
  open_options.clock = options.clock;
  auto project = db::Project::open(path.toStdString(), open_options);
  if (!project) return project.status();
  return std::unique_ptr<ProjectDocument>(
      new ProjectDocument(std::move(project.value()), curator, options));
}

ProjectDocument::ProjectDocument(std::unique_ptr<db::Project> project, const QString& curator,
                                 const Options& options)
    : project_(std::move(project)), options_(options), curator_(curator) {
  // Every decision names who made it; until the curator gives a name, the login name.
  if (curator_.trimmed().isEmpty()) curator_ = qEnvironmentVariable("USER", QStringLiteral("curator"));
  retry_timer_.setInterval(options_.retry_interval_ms);
  connect(&retry_timer_, &QTimer::timeout, this, &ProjectDocument::runPending);
}

// The undo stack is cleared first: its commands point at this document.
ProjectDocument::~ProjectDocument() { undo_stack_.clear(); }

QString ProjectDocument::path() const { return QString::fromStdString(project_->path()); }

QString ProjectDocument::absoluteImagePath(const QString& relative) const {
  if (images_root_.isEmpty() || QDir::isAbsolutePath(relative)) return relative;
  return QDir(images_root_).filePath(relative);
}

void ProjectDocument::write(WriteOp op, const QString& what, QVector<qint64> captions) {
  pending_.push_back({std::move(op), what, std::move(captions)});
  if (!locked_) runPending();
}

void ProjectDocument::runPending() {
  while (!pending_.empty()) {
    Pending& next = pending_.front();
    Status s = next.op(*project_);
    if (s.code() == Status::Code::kBusy) {
      if (!locked_) {
        locked_ = true;
        Q_EMIT lockChanged(true, tr("The project is locked by another writer (a running job?). "
                                    "%1 waits and is retried every %2 ms; nothing is lost.")
                                     .arg(next.what)
                                     .arg(options_.retry_interval_ms));
      }
      retry_timer_.start();
      return;
    }
    const QVector<qint64> captions = next.captions;
    const QString what = next.what;
    pending_.pop_front();
    if (!s) Q_EMIT writeFailed(tr("%1 failed: %2").arg(what, QString::fromStdString(s.message())));
    else Q_EMIT decisionsChanged(captions);
  }
  retry_timer_.stop();
  if (locked_) {
    locked_ = false;
    Q_EMIT lockChanged(false, QString());
  }
}

void ProjectDocument::decide(const std::vector<db::DecisionInput>& decisions, const QString& text) {
  if (decisions.empty()) return;
  undo_stack_.push(new DecideCommand(this, decisions, text));
}

}  // namespace capfilt::ui
