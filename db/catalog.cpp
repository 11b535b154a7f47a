// Models, scores, jobs and job metrics.

#include "db/project.h"
#include "db/project_impl.h"

namespace capfilt::db {

using internal::Connection;
using internal::Stmt;
using internal::WriteTransaction;

namespace {

Status expect_one_change(Connection& c, const std::string& path, const std::string& what,
                         int64_t id) {
  if (sqlite3_changes(c.handle()) == 1) return Status::ok();
  return Status::not_found("project " + path + ": no " + what + " " + std::to_string(id));
}

const char* const kModelColumns =
    "SELECT id, name, checkpoint_path, config_json, task, coalesce(parent_id, 0), metrics_json, "
    "created_ms FROM models ";

ModelRecord read_model(const Stmt& s) {
  ModelRecord m;
  m.id = s.i64(0);
  m.name = s.text(1);
  m.checkpoint_path = s.text(2);
  m.config_json = s.text(3);
  m.task = s.text(4);
  m.parent_id = s.i64(5);
  m.metrics_json = s.text(6);
  m.created_ms = s.i64(7);
  return m;
}

const char* const kJobColumns =
    "SELECT id, kind, args_json, status, pid, progress, created_ms, started_ms, finished_ms, "
    "error, log_path FROM jobs ";

JobRecord read_job(const Stmt& s) {
  JobRecord j;
  j.id = s.i64(0);
  j.kind = s.text(1);
  j.args_json = s.text(2);
  parse(s.text(3), &j.status);
  j.pid = s.i64(4);
  j.progress = s.f64(5);
  j.created_ms = s.i64(6);
  j.started_ms = s.i64(7);
  j.finished_ms = s.i64(8);
  j.error = s.text(9);
  j.log_path = s.text(10);
  return j;
}

// Runs `sql` (bound by `bind`) and reads every row with `read`.
template <typename T, typename Bind, typename Read>
Result<std::vector<T>> read_all(Connection& c, const std::string& sql, Bind bind, Read read,
                                const std::string& what) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.status();
  bind(stmt.value());
  std::vector<T> out;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) out.push_back(read(stmt.value()));
  if (rc != SQLITE_DONE) return c.error(what, rc);
  return out;
}

template <typename T>
Result<T> first_of(Result<std::vector<T>> all, const std::string& path, const std::string& what,
                   int64_t id) {
  if (!all) return all.status();
  if (all->empty())
    return Status::not_found("project " + path + ": no " + what + " " + std::to_string(id));
  return std::move(all.value().front());
}

}  // namespace

Result<int64_t> Project::add_model(const ModelRecord& m) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(
      "INSERT INTO models(name, checkpoint_path, config_json, task, parent_id, metrics_json, "
      "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!stmt) return stmt.status();
  stmt->bind_text(1, m.name).bind_text(2, m.checkpoint_path);
  stmt->bind_text(3, m.config_json.empty() ? "{}" : m.config_json).bind_text(4, m.task);
  if (m.parent_id != 0) stmt->bind_i64(5, m.parent_id);
  stmt->bind_text(6, m.metrics_json.empty() ? "{}" : m.metrics_json);
  stmt->bind_i64(7, impl_->clock->now_ms());
  if (Status s = c.run(stmt.value(), "adding model " + m.name); !s) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(c.handle()));
}

Result<ModelRecord> Project::model(int64_t model_id) {
  return first_of(read_all<ModelRecord>(
                      *impl_->connection, std::string(kModelColumns) + "WHERE id = ?1",
                      [&](Stmt& s) { s.bind_i64(1, model_id); }, read_model, "reading a model"),
                  path_, "model", model_id);
}

Result<std::vector<ModelRecord>> Project::models() {
  return read_all<ModelRecord>(
      *impl_->connection, std::string(kModelColumns) + "ORDER BY id", [](Stmt&) {}, read_model,
      "listing models");
}

Status Project::update_model_metrics(int64_t model_id, const std::string& metrics_json) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare("UPDATE models SET metrics_json = ?2 WHERE id = ?1");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, model_id).bind_text(2, metrics_json);
  if (Status s = c.run(stmt.value(), "updating model metrics"); !s) return s;
  return expect_one_change(c, path_, "model", model_id);
}

Result<std::string> Project::setting(const std::string& key) {
  auto values = read_all<std::string>(
      *impl_->connection, "SELECT value FROM settings WHERE key = ?1",
      [&](Stmt& s) { s.bind_text(1, key); }, [](const Stmt& s) { return s.text(0); },
      "reading a setting");
  if (!values) return values.status();
  return values->empty() ? std::string() : values->front();
}

Status Project::set_setting(const std::string& key, const std::string& value) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(value.empty() ? "DELETE FROM settings WHERE key = ?1"
                                      : "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return stmt.status();
  stmt->bind_text(1, key);
  if (!value.empty()) stmt->bind_text(2, value);
  return c.run(stmt.value(), "storing the setting " + key);
}

namespace internal {

Status upsert_score(Connection& c, const Score& score, const std::string& project_path) {
  auto stmt = c.prepare(
      // An upsert, not INSERT OR REPLACE: REPLACE deletes without firing the delete trigger that
      // keeps score_bins current; an update fires the update trigger.
      "INSERT INTO scores(caption_id, model_id, itm, itc, source, decision) "
      "SELECT ?1, ?2, ?3, ?4, c.source, c.decision FROM captions c WHERE c.id = ?1 "
      "ON CONFLICT(caption_id, model_id) DO UPDATE SET itm = excluded.itm, itc = excluded.itc");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, score.caption_id).bind_i64(2, score.model_id);
  stmt->bind_f64(3, score.itm).bind_f64(4, score.itc);
  if (Status s = c.run(stmt.value(), "storing scores"); !s) {
    if (s.code() != Status::Code::kInvalid) return s;
    return Status::not_found("project " + project_path + ": caption " +
                             std::to_string(score.caption_id) + " or model " +
                             std::to_string(score.model_id) + " does not exist; no score stored");
  }
  if (sqlite3_changes(c.handle()) == 0) {  // the SELECT found no such caption
    return Status::not_found("project " + project_path + ": caption " +
                             std::to_string(score.caption_id) + " does not exist; no score stored");
  }
  return Status::ok();
}

}  // namespace internal

Status Project::put_scores(const std::vector<Score>& scores) {
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  for (const Score& score : scores) {
    if (Status s = internal::upsert_score(c, score, path_); !s) return s;
  }
  return txn.commit();
}

Result<int64_t> Project::add_job(const JobRecord& job) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(
      "INSERT INTO jobs(kind, args_json, status, created_ms, log_path) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt) return stmt.status();
  stmt->bind_text(1, job.kind).bind_text(2, job.args_json.empty() ? "{}" : job.args_json);
  stmt->bind_text(3, to_string(job.status)).bind_i64(4, impl_->clock->now_ms());
  stmt->bind_text(5, job.log_path);
  if (Status s = c.run(stmt.value(), "adding a " + job.kind + " job"); !s) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(c.handle()));
}

Result<JobRecord> Project::job(int64_t job_id) {
  return first_of(read_all<JobRecord>(
                      *impl_->connection, std::string(kJobColumns) + "WHERE id = ?1",
                      [&](Stmt& s) { s.bind_i64(1, job_id); }, read_job, "reading a job"),
                  path_, "job", job_id);
}

Result<std::vector<JobRecord>> Project::jobs() {
  return read_all<JobRecord>(*impl_->connection, std::string(kJobColumns) + "ORDER BY id",
                             [](Stmt&) {}, read_job, "listing jobs");
}

Status Project::update_job(int64_t job_id, JobStatus status, int64_t pid, double progress,
                           const std::string& error) {
  Connection& c = *impl_->connection;
  const bool running = status == JobStatus::kRunning;
  const bool final = status == JobStatus::kSucceeded || status == JobStatus::kFailed ||
                     status == JobStatus::kCancelled;
  auto stmt = c.prepare(
      "UPDATE jobs SET status = ?2, pid = ?3, progress = ?4, error = ?5, "
      "started_ms = CASE WHEN ?6 AND started_ms = 0 THEN ?8 ELSE started_ms END, "
      "finished_ms = CASE WHEN ?7 THEN ?8 ELSE finished_ms END WHERE id = ?1");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, job_id).bind_text(2, to_string(status)).bind_i64(3, pid);
  stmt->bind_f64(4, progress).bind_text(5, error).bind_i64(6, running ? 1 : 0);
  stmt->bind_i64(7, final ? 1 : 0).bind_i64(8, impl_->clock->now_ms());
  if (Status s = c.run(stmt.value(), "updating a job"); !s) return s;
  return expect_one_change(c, path_, "job", job_id);
}

Status Project::set_job_log_path(int64_t job_id, const std::string& log_path) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare("UPDATE jobs SET log_path = ?2 WHERE id = ?1");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, job_id).bind_text(2, log_path);
  if (Status s = c.run(stmt.value(), "setting a job log"); !s) return s;
  return expect_one_change(c, path_, "job", job_id);
}

Status Project::add_job_metrics(int64_t job_id, const std::vector<JobMetric>& metrics) {
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  for (const JobMetric& m : metrics) {
    auto stmt = c.prepare("INSERT INTO job_metrics(job_id, step, name, value) VALUES (?1, ?2, ?3, ?4)");
    if (!stmt) return stmt.status();
    stmt->bind_i64(1, job_id).bind_i64(2, m.step).bind_text(3, m.name).bind_f64(4, m.value);
    if (Status s = c.run(stmt.value(), "storing job metrics"); !s) {
      if (s.code() != Status::Code::kInvalid) return s;
      return Status::not_found("project " + path_ + ": no job " + std::to_string(job_id));
    }
  }
  return txn.commit();
}

Result<std::vector<JobMetric>> Project::job_metrics(int64_t job_id, const std::string& name) {
  const std::string base = "SELECT step, name, value FROM job_metrics WHERE job_id = ?1 ";
  return read_all<JobMetric>(
      *impl_->connection,
      name.empty() ? base + "ORDER BY step, name" : base + "AND name = ?2 ORDER BY step",
      [&](Stmt& s) {
        s.bind_i64(1, job_id);
        if (!name.empty()) s.bind_text(2, name);
      },
      [](const Stmt& s) { return JobMetric{s.i64(0), s.text(1), s.f64(2)}; },
      "reading job metrics");
}

}  // namespace capfilt::db
