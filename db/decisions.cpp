// The decision log: decide, undo, and the current decision derived from the log.

#include <unordered_set>

#include "db/project.h"
#include "db/project_impl.h"

namespace capfilt::db {

using internal::Connection;
using internal::Stmt;
using internal::WriteTransaction;

namespace internal {

Status refresh_current_decision(Connection& c, int64_t caption_id) {
  auto latest = c.prepare(
      "SELECT d.decision, d.time_ms FROM decisions d WHERE d.caption_id = ?1 AND NOT EXISTS "
      "(SELECT 1 FROM decision_undos u WHERE u.decision_id = d.id) ORDER BY d.id DESC LIMIT 1");
  if (!latest) return latest.status();
  latest->bind_i64(1, caption_id);
  std::string decision = "undecided";
  int64_t time_ms = 0;
  int rc = latest->step();
  if (rc == SQLITE_ROW) {
    decision = latest->text(0);
    time_ms = latest->i64(1);
  } else if (rc != SQLITE_DONE) {
    return c.error("reading the decision log", rc);
  }
  latest = Stmt();
  auto update = c.prepare("UPDATE captions SET decision = ?2, decided_ms = ?3 WHERE id = ?1");
  if (!update) return update.status();
  update->bind_i64(1, caption_id).bind_text(2, decision).bind_i64(3, time_ms);
  return c.run(update.value(), "updating a current decision");
}

}  // namespace internal

namespace {

Status append_decision(Connection& c, const DecisionInput& d, int64_t now_ms) {
  auto log = c.prepare(
      "INSERT INTO decisions(caption_id, decision, origin, curator, reason, time_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!log) return log.status();
  log->bind_i64(1, d.caption_id).bind_text(2, to_string(d.decision));
  log->bind_text(3, to_string(d.origin)).bind_text(4, d.curator).bind_text(5, d.reason);
  log->bind_i64(6, now_ms);
  if (Status s = c.run(log.value(), "logging a decision"); !s) return s;
  log = Stmt();
  auto current = c.prepare("UPDATE captions SET decision = ?2, decided_ms = ?3 WHERE id = ?1");
  if (!current) return current.status();
  current->bind_i64(1, d.caption_id).bind_text(2, to_string(d.decision)).bind_i64(3, now_ms);
  return c.run(current.value(), "updating a current decision");
}

// Marks log rows undone by `by` and recomputes their captions' current decisions.
Status mark_undone(Connection& c, const std::vector<std::pair<int64_t, int64_t>>& rows,
                   const std::string& by, int64_t now) {
  std::unordered_set<int64_t> captions;
  for (const auto& [decision_id, caption_id] : rows) {
    auto mark = c.prepare(
        "INSERT INTO decision_undos(decision_id, curator, time_ms) VALUES (?1, ?2, ?3)");
    if (!mark) return mark.status();
    mark->bind_i64(1, decision_id).bind_text(2, by).bind_i64(3, now);
    if (Status s = c.run(mark.value(), "recording an undo"); !s) return s;
    captions.insert(caption_id);
  }
  for (int64_t caption_id : captions) {
    if (Status s = internal::refresh_current_decision(c, caption_id); !s) return s;
  }
  return Status::ok();
}

}  // namespace

namespace internal {

Status append_decisions(Connection& c, const std::vector<DecisionInput>& decisions, int64_t now_ms) {
  for (const auto& d : decisions) {
    if (Status s = append_decision(c, d, now_ms); !s) return s;
  }
  return Status::ok();
}

}  // namespace internal

Status Project::decide(const std::vector<DecisionInput>& decisions) {
  for (const auto& d : decisions) {
    if (d.decision == Decision::kUndecided)
      return Status::invalid("project " + path_ + ": caption " + std::to_string(d.caption_id) +
                             ": a decision is keep or drop; use undo to take one back");
  }
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  const int64_t now = impl_->clock->now_ms();
  for (const auto& d : decisions) {
    Status s = append_decision(c, d, now);
    if (!s && s.code() == Status::Code::kInvalid)  // the foreign key: no such caption
      return Status::not_found("project " + path_ + ": no caption " +
                               std::to_string(d.caption_id) + "; no decision was recorded");
    if (!s) return s;
  }
  return txn.commit();
}

Result<int64_t> Project::undo(const std::string& curator, int64_t count) {
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  auto pick = c.prepare(
      "SELECT d.id, d.caption_id FROM decisions d WHERE d.origin = 'curator' AND "
      "d.curator = ?1 AND NOT EXISTS (SELECT 1 FROM decision_undos u WHERE u.decision_id = d.id) "
      "ORDER BY d.id DESC LIMIT ?2");
  if (!pick) return pick.status();
  pick->bind_text(1, curator).bind_i64(2, count);
  std::vector<std::pair<int64_t, int64_t>> undone;  // (decision, caption)
  int rc;
  while ((rc = pick->step()) == SQLITE_ROW) undone.emplace_back(pick->i64(0), pick->i64(1));
  if (rc != SQLITE_DONE) return c.error("finding decisions to undo", rc);
  pick = Stmt();
  if (Status s = mark_undone(c, undone, curator, impl_->clock->now_ms()); !s) return s;
  if (Status s = txn.commit(); !s) return s;
  return static_cast<int64_t>(undone.size());
}

Result<int64_t> Project::undo_automatic(const std::string& rule, int64_t after_decision_id,
                                        const std::string& undone_by) {
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  auto pick = c.prepare(
      "SELECT d.id, d.caption_id FROM decisions d WHERE d.origin = 'auto' AND d.curator = ?1 AND "
      "d.id > ?2 AND NOT EXISTS (SELECT 1 FROM decision_undos u WHERE u.decision_id = d.id)");
  if (!pick) return pick.status();
  pick->bind_text(1, rule).bind_i64(2, after_decision_id);
  std::vector<std::pair<int64_t, int64_t>> undone;  // (decision, caption)
  int rc;
  while ((rc = pick->step()) == SQLITE_ROW) undone.emplace_back(pick->i64(0), pick->i64(1));
  if (rc != SQLITE_DONE) return c.error("finding automatic decisions to undo", rc);
  pick = Stmt();
  if (Status s = mark_undone(c, undone, undone_by, impl_->clock->now_ms()); !s) return s;
  if (Status s = txn.commit(); !s) return s;
  return static_cast<int64_t>(undone.size());
}

Result<int64_t> Project::last_decision_id() {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare("SELECT coalesce(max(id), 0) FROM decisions");
  if (!stmt) return stmt.status();
  if (int rc = stmt->step(); rc != SQLITE_ROW) return c.error("reading the decision log", rc);
  return stmt->i64(0);
}

Result<std::vector<DecisionLogEntry>> Project::decision_log(int64_t caption_id) {
  Connection& c = *impl_->connection;
  const std::string all =
      "SELECT d.id, d.caption_id, d.decision, d.origin, d.curator, d.reason, d.time_ms, "
      "coalesce(u.time_ms, 0), coalesce(u.curator, '') FROM decisions d "
      "LEFT JOIN decision_undos u ON u.decision_id = d.id ";
  auto stmt = c.prepare(all + (caption_id == 0 ? "ORDER BY d.id" : "WHERE d.caption_id = ?1 ORDER BY d.id"));
  if (!stmt) return stmt.status();
  if (caption_id != 0) stmt->bind_i64(1, caption_id);
  std::vector<DecisionLogEntry> log;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    DecisionLogEntry e;
    e.id = stmt->i64(0);
    e.caption_id = stmt->i64(1);
    parse(stmt->text(2), &e.decision);
    parse(stmt->text(3), &e.origin);
    e.curator = stmt->text(4);
    e.reason = stmt->text(5);
    e.time_ms = stmt->i64(6);
    e.undone_ms = stmt->i64(7);
    e.undone_by = stmt->text(8);
    log.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return c.error("reading the decision log", rc);
  return log;
}

}  // namespace capfilt::db
