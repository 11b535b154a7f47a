#pragma once
// Internal to db/: a thin RAII layer over the SQLite C API. Every statement is prepared and bound;
// no SQL is ever built from values.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "db/status.h"

namespace capfilt::db::internal {

// A borrowed, cached prepared statement. Resets it and clears its bindings when destroyed, so the
// next user finds it fresh. Must not outlive the Connection that made it.
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite.
  Stmt& bind_i64(int index, int64_t value);
  Stmt& bind_f64(int index, double value);
  Stmt& bind_text(int index, const std::string& value);
  Stmt& bind_null(int index);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();

  // Columns are 0-based, as in SQLite.
  int64_t i64(int column) const;
  double f64(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One SQLite connection with a cache of prepared statements. One thread at a time.
class Connection {
 public:
  // Opens `path` with foreign keys on and the busy timeout set; leaves the file's content alone.
  // `label` names the file in error messages ("project", "results file").
  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool create,
                                                  int busy_timeout_ms, bool read_only = false,
                                                  const std::string& label = "project");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached statement for `sql` (a constant string or one assembled from constant pieces).
  Result<Stmt> prepare(const std::string& sql);
  // Runs parameter-free SQL (schema, pragmas, transaction control).
  Status exec(const std::string& sql);
  // The Status for a failed call with SQLite result code `rc`; `what` says what was being done.
  Status error(const std::string& what, int rc) const;
  // Runs a statement that returns no rows to completion.
  Status run(Stmt& stmt, const std::string& what);

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path, int busy_timeout_ms, std::string label);

  sqlite3* db_;
  std::string path_;
  std::string label_;
  int busy_timeout_ms_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// A write transaction (BEGIN IMMEDIATE, so a competing writer waits for the busy timeout at the
// start instead of failing half-way). Rolls back when destroyed without commit().
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& connection) : connection_(connection) {}
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  Status begin();
  Status commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

// A read transaction: every query inside it sees one snapshot.
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& connection) : connection_(connection) {}
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

  Status begin();

 private:
  Connection& connection_;
  bool open_ = false;
};

}  // namespace capfilt::db::internal
