#pragma once
// The open project as the studio's views see it: one db::Project connection owned by the GUI
// thread, the undo stack every edit goes through, and the signals views observe.
//
// Views read through project() (a page, counts, a histogram: each one short query). They never
// write: every write is a QUndoCommand (shared/decide_command.h, ...) whose redo/undo call write().
// write() runs operations in order; when another process holds the write lock (a CapFilt job), the
// operation and all after it wait and are retried by a timer, so the window never freezes and no
// decision is lost or reordered. lockChanged tells the window to show a retrying message.
//
// Thread affinity: the GUI thread. Lifetime: owns the Project; commands on its undo stack hold a
// raw pointer back to it and are deleted with it.

#include <QObject>
#include <QString>
#include <QTimer>
#include <QUndoStack>
#include <QVector>

#include <deque>
#include <functional>
#include <memory>

#include "db/project.h"

namespace capfilt::ui {

class ProjectDocument : public QObject {
  Q_OBJECT

 public:
  struct Options {
    // How long one write attempt waits for another writer before it is retried by the timer.
    // Short, so the event loop never stalls for long on a locked project.
    int busy_timeout_ms = 50;
    int retry_interval_ms = 250;
    const db::Clock* clock = nullptr;  // not owned; nullptr = system clock
  };

  // Opens an existing project (create: a new one). Errors are the store's message (a file that is
  // not a project, one from a newer version, a missing file).
  static Result<std::unique_ptr<ProjectDocument>> open(const QString& path, const QString& curator,
                                                       bool create, const Options& options);
  static Result<std::unique_ptr<ProjectDocument>> open(const QString& path, const QString& curator,
                                                       bool create = false) {
    return open(path, curator, create, Options{});
  }
  ~ProjectDocument() override;

  QString path() const;
  db::Project& project() { return *project_; }
  QUndoStack* undoStack() { return &undo_stack_; }

  QString curator() const { return curator_; }
  void setCurator(const QString& name) { curator_ = name; }

  // Folder the project's image paths are relative to.
  QString imagesRoot() const { return images_root_; }
  void setImagesRoot(const QString& folder) { images_root_ = folder; }
  QString absoluteImagePath(const QString& relative) const;

  // Queues a write; it runs now unless earlier writes wait for the lock. A failure other than
  // kBusy is reported by writeFailed and the operation is dropped. `captions` are the captions it
  // changes, passed on to decisionsChanged.
  using WriteOp = std::function<Status(db::Project&)>;
  void write(WriteOp op, const QString& what, QVector<qint64> captions = {});
  bool hasPendingWrites() const { return !pending_.empty(); }

  // A curator's corrected caption was stored (the filter may score it now).
  void notifyCaptionAdded(qint64 caption_id, const QString& image_path, const QString& text) {
    Q_EMIT captionAdded(caption_id, image_path, text);
  }
  // Another connection (an import on a worker thread, a job) changed the project: views reload.
  void notifyExternalChange() { Q_EMIT decisionsChanged({}); }

  // Pushes a command deciding `decisions` (all by the current curator). Returns at once.
  void decide(const std::vector<db::DecisionInput>& decisions, const QString& text);

 Q_SIGNALS:
  // After a write that changed decisions or captions (empty: possibly any caption).
  void decisionsChanged(const QVector<qint64>& captions);
  void captionAdded(qint64 caption_id, const QString& image_path, const QString& text);
  // locked: a write waits for another writer; message says so and that it retries.
  void lockChanged(bool locked, const QString& message);
  void writeFailed(const QString& message);

 private:
  ProjectDocument(std::unique_ptr<db::Project> project, const QString& curator,
                  const Options& options);
  void runPending();

  struct Pending {
    WriteOp op;
    QString what;
    QVector<qint64> captions;
  };

  std::unique_ptr<db::Project> project_;
  Options options_;
  QString curator_;
  QString images_root_;
  QUndoStack undo_stack_;
  std::deque<Pending> pending_;
  QTimer retry_timer_;
  bool locked_ = false;
};

}  // namespace capfilt::ui
