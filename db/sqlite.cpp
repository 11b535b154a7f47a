#include "db/sqlite.h"

namespace capfilt::db::internal {

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    this->~Stmt();
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    stmt_ = nullptr;
  }
}

Stmt& Stmt::bind_i64(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::bind_f64(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Stmt& Stmt::bind_text(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int Stmt::step() { return sqlite3_step(stmt_); }

int64_t Stmt::i64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Stmt::f64(int column) const { return sqlite3_column_double(stmt_, column); }
bool Stmt::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Stmt::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, bool create,
                                                     int busy_timeout_ms, bool read_only,
                                                     const std::string& label) {
  sqlite3* db = nullptr;
  int flags = read_only
                  ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    if (rc == SQLITE_CANTOPEN && !create)
      return Status::not_found(label + " " + path + " does not exist (" + why + ")");
    return Status::io_error("cannot open " + label + " " + path + ": " + why);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  std::unique_ptr<Connection> connection(new Connection(db, path, busy_timeout_ms, label));
  Status s = connection->exec("PRAGMA foreign_keys = ON");
  if (!s) return s;
  return connection;
}

Connection::Connection(sqlite3* db, std::string path, int busy_timeout_ms, std::string label)
    : db_(db),
      path_(std::move(path)),
      label_(std::move(label)),
      busy_timeout_ms_(busy_timeout_ms) {}

Connection::~Connection() {
  for (auto& entry : cache_) sqlite3_finalize(entry.second);
  sqlite3_close_v2(db_);
}

Result<Stmt> Connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error("preparing a query", rc);
  cache_.emplace(sql, stmt);
  return Stmt(stmt);
}

Status Connection::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return error("running \"" + sql.substr(0, 60) + "\"", rc);
  return Status::ok();
}

Status Connection::error(const std::string& what, int rc) const {
  std::string where = label_ + " " + path_ + ": " + what + ": ";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::busy(where + "the project is locked by another process (waited " +
                          std::to_string(busy_timeout_ms_) +
                          " ms); try again when its work is done");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::corrupt(where + "the file is not a valid " + label_ + " database (" +
                             sqlite3_errmsg(db_) + ")");
    case SQLITE_CONSTRAINT:
      return Status::invalid(where + sqlite3_errmsg(db_));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return Status::io_error(where + sqlite3_errmsg(db_));
    default:
      return Status::io_error(where + sqlite3_errmsg(db_) + " (SQLite code " +
                              std::to_string(rc) + ")");
  }
}

Status Connection::run(Stmt& stmt, const std::string& what) {
  int rc = stmt.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(what, rc);
  return Status::ok();
}

WriteTransaction::~WriteTransaction() {
  if (open_) connection_.exec("ROLLBACK");
}

Status WriteTransaction::begin() {
  Status s = connection_.exec("BEGIN IMMEDIATE");
  open_ = s.is_ok();
  return s;
}

Status WriteTransaction::commit() {
  Status s = connection_.exec("COMMIT");
  if (s) open_ = false;
  return s;
}

ReadTransaction::~ReadTransaction() {
  if (open_) connection_.exec("COMMIT");
}

Status ReadTransaction::begin() {
  Status s = connection_.exec("BEGIN");
  open_ = s.is_ok();
  return s;
}

}  // namespace capfilt::db::internal
