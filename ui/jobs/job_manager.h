#pragma once
// The project's jobs as the jobs panel shows them: every row of the jobs table (history) plus the
// jobs this studio starts. A job is a detached `capfilt ... --json` process whose stdout goes to
// a file in its job folder (<project folder>/jobs/<kind>-<time>/, with launch.json describing
// it); a JobFollower reads that file, so charts and progress come from the same JSON lines
// whether the studio started the job a second ago or finds it running when it opens the project.
//
// Reattach: a row still "running" whose pid is a live capfilt process is followed again (charts
// seeded from job_metrics, then the log); one whose process is gone is closed from its log: the
// log's "finished" line when there is one, else failed with its last lines.
//
// Writes (rows the studio keeps for eval and import-weights, a crashed job's status, the
// imported model) go through ProjectDocument::write, so a busy project is retried, not lost.
// Thread affinity: the GUI thread. The document must outlive the manager.

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "db/records.h"
#include "db/status.h"
#include "ui/jobs/job_request.h"
#include "ui/shared/progress_line_reader.h"

namespace capfilt::ui {

class JobFollower;
class ProjectDocument;

struct JobEntry {
  int key = 0;           // the manager's handle, stable while it lives
  qint64 job_id = 0;     // the jobs row; 0 until the job has written it
  QString folder;        // the studio's job folder; empty for a job started on the command line
  JobRequest request;    // from launch.json; arguments empty when unknown
  db::JobStatus status = db::JobStatus::kQueued;
  qint64 pid = 0;
  qint64 created_ms = 0, started_ms = 0, finished_ms = 0;
  QString error;
  QString configuration;  // the row's args_json
  QString log_path;       // the JSON-lines file followed and shown
  QString stderr_path;
  // Progress, from the latest progress line.
  qint64 done = 0, total = 0;
  double rate = 0;
  double eta_s = -1;      // < 0: not known
  double row_progress = 0;  // the row's [0, 1], for jobs whose log is not read (history)
  QString unit;
  // Every metric of the progress lines (loss terms, lr, pairs_per_s, ...): name -> step -> value.
  std::map<std::string, std::map<qint64, double>> series;
  std::map<std::string, double> final_metrics;  // the "finished" line's, else the last of each
  QStringList log;        // the log as a human reads it (newest last)
  QString checkpoint;     // the newest checkpoint the job reported
  bool live = false;      // followed now
  bool followed = false;  // this manager saw it run: its status is what the log said
  bool details_loaded = false;
};

class JobManager : public QObject {
  Q_OBJECT

 public:
  // `program`: the capfilt executable. `poll_ms`: how often followers read their logs.
  JobManager(ProjectDocument* document, const QString& program, QObject* parent = nullptr,
             int poll_ms = 200);
  ~JobManager() override;

  // Newest first.
  const std::vector<std::unique_ptr<JobEntry>>& jobs() const { return jobs_; }
  const JobEntry* job(int key) const;
  const JobEntry* jobWithId(qint64 job_id) const;

  // Reads the jobs table again: new rows, statuses; reattaches to or closes running rows.
  void reload();
  // Starts a job; its key, or kIoError when capfilt cannot start.
  Result<int> launch(const JobRequest& request);
  // Asks the job to stop (SIGTERM: a training job writes a checkpoint first). False when it does
  // not run.
  bool cancel(int key);
  // A stopped training job continues from its newest checkpoint in its own folder (same row).
  Result<int> resume(int key);
  bool canResume(int key) const;
  // The same arguments again, in a new job folder.
  Result<int> rerun(int key);
  // Loads a finished job's charts (job_metrics), log and final metrics, once.
  void loadDetails(int key);

  QString program() const { return program_; }
  QString jobsFolder() const;

 Q_SIGNALS:
  void listChanged();
  void jobChanged(int key);  // progress, a metric, a log line, a status
  void jobEnded(int key);    // a followed job's process is gone (its status is final)

 private:
  JobEntry* find(int key);
  JobEntry& entryForRow(const db::JobRecord& row);
  void readLaunchFile(JobEntry& e);
  void writeLaunchFile(const JobEntry& e);
  void follow(JobEntry& e);
  void apply(JobEntry& e, const ProgressLine& line);
  void bindJobId(JobEntry& e, qint64 job_id);
  void followerEnded(int key, bool saw_finished);
  void closeDeadRow(JobEntry& e);
  bool textJobSucceeded(const JobEntry& e) const;
  void registerImportedModel(const JobEntry& e);
  Result<int> start(JobEntry& e, const QStringList& arguments);
  QString tail(const JobEntry& e, int lines) const;

  QPointer<ProjectDocument> document_;
  QString program_;
  int poll_ms_;
  int next_key_ = 1;
  std::vector<std::unique_ptr<JobEntry>> jobs_;
  std::map<int, JobFollower*> followers_;  // owned as QObject children
  QTimer* rows_timer_;  // picks up jobs started elsewhere (the command line)
};

QString to_display(db::JobStatus status);

}  // namespace capfilt::ui
