#include "ui/jobs/job_manager.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

#include "ui/jobs/job_follower.h"
#include "ui/jobs/job_process.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {
namespace {

constexpr int kLogLines = 5000;  // lines kept per job in memory (the file keeps everything)

QString launch_file(const QString& folder) { return QDir(folder).filePath("launch.json"); }

QByteArray read_tail(const QString& path, qint64 bytes) {
  if (path.isEmpty()) return {};
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  if (file.size() > bytes) file.seek(file.size() - bytes);
  return file.readAll();
}

bool parse_status(const std::string& text, db::JobStatus* out) { return db::parse(text, out); }

qint64 now_ms() { return QDateTime::currentMSecsSinceEpoch(); }

}  // namespace

QString to_display(db::JobStatus status) {
  switch (status) {
    case db::JobStatus::kQueued: return QObject::tr("starting");
    case db::JobStatus::kRunning: return QObject::tr("running");
    case db::JobStatus::kSucceeded: return QObject::tr("succeeded");
    case db::JobStatus::kFailed: return QObject::tr("failed");
    case db::JobStatus::kCancelled: return QObject::tr("cancelled");
  }
  return {};
}

JobManager::JobManager(ProjectDocument* document, const QString& program, QObject* parent,
                       int poll_ms)
    : QObject(parent), document_(document), program_(program), poll_ms_(poll_ms) {
  rows_timer_ = new QTimer(this);
  rows_timer_->setInterval(5000);
  connect(rows_timer_, &QTimer::timeout, this, &JobManager::reload);
  rows_timer_->start();
  reload();
}

JobManager::~JobManager() = default;  // followers are children; the jobs keep running

QString JobManager::jobsFolder() const {
  return QDir(QFileInfo(document_->path()).absolutePath()).filePath("jobs");
}

const JobEntry* JobManager::job(int key) const {
  for (const auto& e : jobs_)
    if (e->key == key) return e.get();
  return nullptr;
}

JobEntry* JobManager::find(int key) { return const_cast<JobEntry*>(job(key)); }

const JobEntry* JobManager::jobWithId(qint64 job_id) const {
  for (const auto& e : jobs_)
    if (e->job_id == job_id) return e.get();
  return nullptr;
}

void JobManager::readLaunchFile(JobEntry& e) {
  QFile file(launch_file(e.folder));
  if (!file.open(QIODevice::ReadOnly)) return;
  const QJsonObject o = QJsonDocument::fromJson(file.readAll()).object();
  e.request.kind = o["kind"].toString();
  e.request.title = o["title"].toString();
  e.request.arguments.clear();
  for (const auto& a : o["arguments"].toArray()) e.request.arguments << a.toString();
  e.request.train = o["train"].toBool();
  e.request.studio_row = o["studio_row"].toBool();
  e.request.output_model = o["output_model"].toString();
  e.request.json = o["json"].toBool(true);
  if (o.contains("stdout")) e.log_path = o["stdout"].toString();
  if (o.contains("stderr")) e.stderr_path = o["stderr"].toString();
  if (e.pid == 0) e.pid = o["pid"].toInteger();
}

void JobManager::writeLaunchFile(const JobEntry& e) {
  if (e.folder.isEmpty()) return;
  QJsonObject o;
  o["kind"] = e.request.kind;
  o["title"] = e.request.title;
  o["arguments"] = QJsonArray::fromStringList(e.request.arguments);
  o["train"] = e.request.train;
  o["studio_row"] = e.request.studio_row;
  o["output_model"] = e.request.output_model;
  o["json"] = e.request.json;
  o["stdout"] = e.log_path;
  o["stderr"] = e.stderr_path;
  o["pid"] = e.pid;
  o["job_id"] = e.job_id;
  o["project"] = document_->path();
  QFile file(launch_file(e.folder));
  if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
    file.write(QJsonDocument(o).toJson());
}

// ---- Rows ----

JobEntry& JobManager::entryForRow(const db::JobRecord& row) {
  for (auto& e : jobs_)
    if (e->job_id == row.id) return *e;
  const QString log = QString::fromStdString(row.log_path);
  const QString folder = log.isEmpty() ? QString() : QFileInfo(log).absolutePath();
  // A job this studio started whose row appeared since: by its folder (train records its log
  // there) or by its pid (capfilt records its pid, no log).
  for (auto& e : jobs_) {
    if (e->job_id == 0 && ((!folder.isEmpty() && e->folder == folder) ||
                           (row.pid > 0 && e->pid == row.pid && e->live))) {
      e->job_id = row.id;
      return *e;
    }
  }
  auto e = std::make_unique<JobEntry>();
  e->key = next_key_++;
  e->job_id = row.id;
  e->log_path = log;
  if (!folder.isEmpty() && QFileInfo::exists(launch_file(folder))) {
    e->folder = folder;
    readLaunchFile(*e);
  }
  if (e->request.kind.isEmpty()) e->request.kind = QString::fromStdString(row.kind);
  if (e->request.title.isEmpty())
    e->request.title = tr("%1 (from the command line)").arg(QString::fromStdString(row.kind));
  jobs_.push_back(std::move(e));
  return *jobs_.back();
}

void JobManager::reload() {
  if (!document_) return;
  auto rows = document_->project().jobs();
  if (!rows) return;
  for (const db::JobRecord& row : *rows) {
    JobEntry& e = entryForRow(row);
    e.configuration = QString::fromStdString(row.args_json);
    e.created_ms = row.created_ms;
    e.started_ms = row.started_ms;
    e.finished_ms = row.finished_ms;
    e.row_progress = row.progress;
    // The log is ahead of the row, and a job this manager saw end may have its closing write
    // still queued behind a busy project.
    if (e.live || e.followed) continue;
    e.status = row.status;
    e.error = QString::fromStdString(row.error);
    if (row.pid > 0) e.pid = row.pid;
    if (e.log_path.isEmpty()) e.log_path = QString::fromStdString(row.log_path);
    if (row.status != db::JobStatus::kRunning && row.status != db::JobStatus::kQueued) continue;
    if (job_process_alive(e.pid)) {
      // Reattach: the charts so far from job_metrics, then the log (steps already seen merge).
      if (auto metrics = document_->project().job_metrics(e.job_id)) {
        for (const db::JobMetric& m : *metrics) e.series[m.name][m.step] = m.value;
      }
      e.status = db::JobStatus::kRunning;
      follow(e);
    } else if (row.status == db::JobStatus::kRunning) {
      closeDeadRow(e);
    }
  }
  std::stable_sort(jobs_.begin(), jobs_.end(), [](const auto& a, const auto& b) {
    return a->created_ms != b->created_ms ? a->created_ms > b->created_ms : a->key > b->key;
  });
  Q_EMIT listChanged();
}

// ---- Starting ----

Result<int> JobManager::launch(const JobRequest& request) {
  auto owned = std::make_unique<JobEntry>();
  JobEntry& e = *owned;
  e.key = next_key_++;
  e.request = request;
  e.created_ms = now_ms();
  const QString stamp = QDateTime::currentDateTimeUtc().toString("yyyyMMdd-HHmmss-zzz");
  e.folder = QDir(jobsFolder()).filePath(request.kind + "-" + stamp);
  if (!QDir().mkpath(e.folder))
    return Status::io_error(e.folder.toStdString() + ": cannot create the job folder");
  QStringList args = request.arguments;
  if (request.train) args << "--job-dir" << e.folder;
  jobs_.insert(jobs_.begin(), std::move(owned));
  auto started = start(e, args);
  if (!started) {
    jobs_.erase(jobs_.begin());
    return started.status();
  }
  Q_EMIT listChanged();
  return e.key;
}

Result<int> JobManager::start(JobEntry& e, const QStringList& arguments) {
  int run = 1;
  while (QFileInfo::exists(QDir(e.folder).filePath(QStringLiteral("output-%1.jsonl").arg(run)))) ++run;
  DetachedLaunch l;
  l.program = program_;
  l.arguments = arguments;
  if (e.request.json) l.arguments << "--json";
  l.working_dir = e.folder;
  l.stdout_path = QDir(e.folder).filePath(QStringLiteral("output-%1.jsonl").arg(run));
  l.stderr_path = QDir(e.folder).filePath(QStringLiteral("stderr-%1.log").arg(run));
  auto pid = start_detached(l);
  if (!pid) return pid.status();
  e.pid = *pid;
  e.log_path = l.stdout_path;
  e.stderr_path = l.stderr_path;
  e.status = db::JobStatus::kRunning;
  e.started_ms = now_ms();
  e.finished_ms = 0;
  e.error.clear();
  e.final_metrics.clear();
  e.log << tr("$ capfilt %1").arg(l.arguments.join(' '));
  writeLaunchFile(e);
  if (e.request.studio_row) {
    // eval and import-weights keep no row: the studio records theirs, so history and reattach
    // find them like any other job.
    QPointer<JobManager> self(this);
    const int key = e.key;
    const std::string args = QJsonDocument(QJsonObject{
        {"arguments", QJsonArray::fromStringList(arguments)}, {"title", e.request.title}})
                                 .toJson(QJsonDocument::Compact).toStdString();
    const std::string kind = e.request.kind.toStdString();
    const qint64 pid_value = e.pid;
    const std::string log = l.stdout_path.toStdString();
    qint64 existing = e.job_id;
    document_->write(
        [self, key, args, kind, pid_value, log, existing](db::Project& p) -> Status {
          qint64 id = existing;
          if (id == 0) {
            db::JobRecord row;
            row.kind = kind;
            row.args_json = args;
            auto added = p.add_job(row);
            if (!added) return added.status();
            id = *added;
          }
          if (Status s = p.update_job(id, db::JobStatus::kRunning, pid_value, 0); !s) return s;
          if (Status s = p.set_job_log_path(id, log); !s) return s;
          if (self) {
            if (JobEntry* entry = self->find(key)) self->bindJobId(*entry, id);
          }
          return Status::ok();
        },
        tr("Recording the job"));
  }
  follow(e);
  return e.key;
}

bool JobManager::cancel(int key) {
  JobEntry* e = find(key);
  if (!e || !e->live) return false;
  if (!request_stop(e->pid)) return false;
  e->log << tr("Stop requested (SIGTERM): the job writes a checkpoint and exits.");
  Q_EMIT jobChanged(key);
  return true;
}

bool JobManager::canResume(int key) const {
  const JobEntry* e = job(key);
  if (!e || e->live || !e->request.train || e->folder.isEmpty() || e->request.arguments.size() < 2)
    return false;
  if (e->status == db::JobStatus::kSucceeded) return false;
  return !QDir(QDir(e->folder).filePath("checkpoints"))
              .entryList({QStringLiteral("step-*")}, QDir::Dirs)
              .isEmpty();
}

Result<int> JobManager::resume(int key) {
  JobEntry* e = find(key);
  if (!e || !canResume(key))
    return Status::invalid("this job cannot be resumed: only a stopped or failed training job "
                           "with a checkpoint in its folder can");
  // The job folder's config.json holds the configuration; the same row continues.
  const QStringList args = {QStringLiteral("train"),  e->request.arguments.at(1),
                            QStringLiteral("--resume"), QStringLiteral("--job-dir"),
                            e->folder,                  QStringLiteral("--project"),
                            document_->path(),          QStringLiteral("--log-every"),
                            QStringLiteral("1")};
  auto started = start(*e, args);
  if (started) Q_EMIT listChanged();
  return started;
}

Result<int> JobManager::rerun(int key) {
  const JobEntry* e = job(key);
  if (!e || e->request.arguments.isEmpty())
    return Status::invalid("this job's arguments are unknown (it was not started by the studio)");
  return launch(e->request);
}

// ---- Following ----

void JobManager::follow(JobEntry& e) {
  if (followers_.count(e.key)) return;
  e.live = true;
  e.followed = true;
  auto* follower = new JobFollower(e.log_path, e.pid, this, poll_ms_);
  followers_[e.key] = follower;
  const int key = e.key;
  connect(follower, &JobFollower::line, this, [this, key](const ProgressLine& line) {
    if (JobEntry* entry = find(key)) {
      apply(*entry, line);
      Q_EMIT jobChanged(key);
    }
  });
  connect(follower, &JobFollower::ended, this, [this, key, follower] {
    followerEnded(key, follower->sawFinished());
  });
}

void JobManager::bindJobId(JobEntry& e, qint64 job_id) {
  if (e.job_id == job_id) return;
  // A row that reload() listed before this job's start line named it: one entry, not two.
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->get() == &e || (*it)->job_id != job_id) {
      ++it;
      continue;
    }
    if (auto f = followers_.find((*it)->key); f != followers_.end()) {
      f->second->deleteLater();  // the same process, followed twice: keep one
      followers_.erase(f);
    }
    it = jobs_.erase(it);
  }
  e.job_id = job_id;
  writeLaunchFile(e);
  if (e.request.kind == "capfilt") {
    // capfilt records no log path: the studio's, so a later studio finds the log and folder.
    const std::string log = e.log_path.toStdString();
    document_->write([job_id, log](db::Project& p) { return p.set_job_log_path(job_id, log); },
                     tr("Recording the job's log"));
  }
  Q_EMIT listChanged();
}

void JobManager::apply(JobEntry& e, const ProgressLine& line) {
  e.log << line.text;
  if (e.log.size() > kLogLines) e.log.remove(0, e.log.size() - kLogLines);
  if (!line.event) return;
  const core::ProgressEvent& ev = *line.event;
  switch (ev.kind) {
    case core::ProgressEventKind::kStart:
      e.total = ev.total;
      e.unit = QString::fromStdString(ev.unit);
      if (ev.job_id > 0 && e.live) bindJobId(e, ev.job_id);
      break;
    case core::ProgressEventKind::kProgress: {
      e.done = ev.done;
      e.total = ev.total;
      e.rate = ev.rate;
      e.eta_s = ev.eta_s.value_or(-1);
      const qint64 step = ev.step.value_or(ev.done);
      for (const auto& [name, value] : ev.metrics) e.series[name][step] = value;
      // Jobs without training metrics (CapFilt, evaluation) chart their rate as throughput.
      if (ev.metrics.empty() && ev.rate > 0) e.series["units_per_s"][step] = ev.rate;
      break;
    }
    case core::ProgressEventKind::kCheckpoint:
      e.checkpoint = QString::fromStdString(ev.path);
      break;
    case core::ProgressEventKind::kMessage:
      if (ev.level == "error") e.error = QString::fromStdString(ev.text);
      break;
    case core::ProgressEventKind::kFinished: {
      if (!ev.metrics.empty()) e.final_metrics = ev.metrics;
      db::JobStatus status = e.status;
      if (parse_status(ev.status, &status)) e.status = status;
      if (status == db::JobStatus::kFailed) e.error = QString::fromStdString(ev.text);
      if (e.status == db::JobStatus::kSucceeded && e.total > 0) e.done = e.total;
      break;
    }
  }
}

QString JobManager::tail(const JobEntry& e, int lines) const {
  QStringList out = e.log.mid(std::max<qsizetype>(0, e.log.size() - lines));
  const QString err = QString::fromLocal8Bit(read_tail(e.stderr_path, 1500)).trimmed();
  if (!err.isEmpty()) out << tr("Its error output:") << err;
  return out.join('\n');
}

void JobManager::followerEnded(int key, bool saw_finished) {
  if (auto it = followers_.find(key); it != followers_.end()) {
    it->second->deleteLater();
    followers_.erase(it);
  }
  JobEntry* e = find(key);
  if (!e) return;
  e->live = false;
  e->finished_ms = now_ms();
  bool ok = saw_finished;
  if (!e->request.json) {
    ok = textJobSucceeded(*e);
    e->status = ok ? db::JobStatus::kSucceeded : db::JobStatus::kFailed;
  }
  if (!ok) {
    e->status = db::JobStatus::kFailed;
    e->error = tr("capfilt (pid %1) ended without finishing: it failed, crashed or was killed. "
                  "Its last lines:\n%2")
                   .arg(e->pid)
                   .arg(tail(*e, 8));
  }
  if (e->final_metrics.empty()) {
    for (const auto& [name, points] : e->series)
      if (!points.empty()) e->final_metrics[name] = points.rbegin()->second;
  }
  if (e->status == db::JobStatus::kSucceeded && e->request.kind == "import-weights")
    registerImportedModel(*e);
  // Rows the command did not close: the studio's own (eval, import) and any left "running".
  const bool studio_row = e->request.studio_row;
  const db::JobStatus status = e->status;
  const std::string error = e->error.toStdString();
  const qint64 pid = e->pid;
  const double progress = e->total > 0 ? double(e->done) / double(e->total) : 0.0;
  const std::string kind = e->request.kind.toStdString();
  const std::string log = e->log_path.toStdString();
  const qint64 job_id = e->job_id;
  QPointer<JobManager> self(this);
  document_->write(
      [=](db::Project& p) -> Status {
        qint64 id = job_id;
        if (id == 0) {
          // It died before writing a row: record it, so the history shows what happened.
          db::JobRecord row;
          row.kind = kind;
          row.log_path = log;
          auto added = p.add_job(row);
          if (!added) return added.status();
          id = *added;
          if (Status s = p.set_job_log_path(id, log); !s) return s;
          if (self) {
            if (JobEntry* entry = self->find(key)) entry->job_id = id;
          }
        } else if (!studio_row) {
          auto row = p.job(id);
          if (!row) return row.status();
          if (row->status != db::JobStatus::kRunning && row->status != db::JobStatus::kQueued)
            return Status::ok();  // the command closed its row itself
        }
        return p.update_job(id, status, pid, progress, status == db::JobStatus::kFailed ? error : "");
      },
      tr("Recording the end of a job"));
  if (self) {
    document_->notifyExternalChange();  // CapFilt wrote decisions and scores; views reload
    reload();
    Q_EMIT jobChanged(key);
    Q_EMIT jobEnded(key);
  }
}

void JobManager::closeDeadRow(JobEntry& e) {
  // The log tells how it ended when the studio was closed; without a finished line it crashed.
  QFile file(e.log_path);
  ProgressLineReader reader;
  bool finished = false;
  if (file.open(QIODevice::ReadOnly)) {
    auto lines = reader.feed(file.readAll());
    for (auto& l : reader.flush()) lines.push_back(std::move(l));
    for (const ProgressLine& l : lines) {
      if (l.event && l.event->kind == core::ProgressEventKind::kFinished) finished = true;
      apply(e, l);
    }
  }
  e.details_loaded = true;
  if (!e.request.json && textJobSucceeded(e)) {
    finished = true;  // import-weights ended while no studio watched: done, and its model is new
    e.status = db::JobStatus::kSucceeded;
    if (e.request.kind == "import-weights") registerImportedModel(e);
  }
  if (!finished) {
    e.status = db::JobStatus::kFailed;
    e.error = tr("capfilt (pid %1) is no longer running and its log has no finished line: it "
                 "crashed, was killed or the machine restarted. Its last lines:\n%2")
                  .arg(e.pid)
                  .arg(tail(e, 8));
  }
  const qint64 id = e.job_id;
  const db::JobStatus status = e.status;
  const std::string error = e.status == db::JobStatus::kFailed ? e.error.toStdString() : "";
  const qint64 pid = e.pid;
  const double progress = e.total > 0 ? double(e.done) / double(e.total) : 0.0;
  document_->write([=](db::Project& p) { return p.update_job(id, status, pid, progress, error); },
                   tr("Closing a job whose process is gone"));
}

bool JobManager::textJobSucceeded(const JobEntry& e) const {
  // import-weights prints text, no finished line: it succeeded when it wrote the checkpoint.
  return e.request.kind == "import-weights" &&
         QFileInfo::exists(QDir(e.request.output_model).filePath("model.safetensors")) &&
         e.log.join('\n').contains(QStringLiteral("written to"));
}

void JobManager::registerImportedModel(const JobEntry& e) {
  const QString folder = QFileInfo(e.request.output_model).canonicalFilePath();
  if (folder.isEmpty()) return;
  QString task = QStringLiteral("pretrain");
  const QRegularExpression kind(QStringLiteral("imported (\\w+) model"));
  for (const QString& line : e.log) {
    const auto m = kind.match(line);
    if (!m.hasMatch()) continue;
    const QString k = m.captured(1);
    task = k == "retrieval" ? QStringLiteral("filter") : k == "captioner" || k == "vqa" ? k : task;
  }
  QFile config(QDir(folder).filePath("config.json"));
  db::ModelRecord record;
  record.name = QFileInfo(folder).fileName().toStdString();
  record.checkpoint_path = folder.toStdString();
  record.config_json = config.open(QIODevice::ReadOnly) ? config.readAll().toStdString() : "{}";
  record.task = task.toStdString();
  document_->write([record](db::Project& p) { return p.find_or_add_model(record).status(); },
                   tr("Adding the imported model"));
}

void JobManager::loadDetails(int key) {
  JobEntry* e = find(key);
  if (!e || e->live || e->details_loaded) return;
  e->details_loaded = true;
  if (e->job_id > 0) {
    if (auto metrics = document_->project().job_metrics(e->job_id)) {
      for (const db::JobMetric& m : *metrics) e->series[m.name][m.step] = m.value;
    }
  }
  QFile file(e->log_path);
  if (file.open(QIODevice::ReadOnly)) {
    const db::JobStatus status = e->status;  // the row's: the log only adds detail
    const QString error = e->error;
    ProgressLineReader reader;
    auto lines = reader.feed(file.readAll());
    for (auto& l : reader.flush()) lines.push_back(std::move(l));
    e->log.clear();
    for (const ProgressLine& l : lines) apply(*e, l);
    e->status = status;
    if (!error.isEmpty()) e->error = error;
  }
  if (e->final_metrics.empty()) {
    for (const auto& [name, points] : e->series)
      if (!points.empty()) e->final_metrics[name] = points.rbegin()->second;
  }
  Q_EMIT jobChanged(key);
}

}  // namespace capfilt::ui
