#include "db/project.h"

#include <sys/stat.h>

#include "db/project_impl.h"
#include "db/schema.h"

namespace capfilt::db {

using internal::Connection;
using internal::Stmt;
using internal::WriteTransaction;

int schema_version() { return static_cast<int>(internal::migrations().size()); }

namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// A file with tables but no schema version was not made by capfilt.
Status check_is_project(Connection& connection, int version) {
  if (version != 0) return Status::ok();
  auto stmt = connection.prepare("SELECT count(*) FROM sqlite_master");
  if (!stmt) return stmt.status();
  int rc = stmt->step();
  if (rc != SQLITE_ROW) return connection.error("reading the schema", rc);
  if (stmt->i64(0) != 0)
    return Status::corrupt("project " + connection.path() +
                           " is an SQLite database but not a capfilt project");
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Project>> Project::open(const std::string& path,
                                               const OpenOptions& options) {
  if (!options.create_if_missing && !file_exists(path))
    return Status::not_found("project " + path + " does not exist");
  if (options.read_only && !file_exists(path))
    return Status::not_found("project " + path + " does not exist");
  auto connection =
      Connection::open(path, options.create_if_missing, options.busy_timeout_ms, options.read_only);
  if (!connection) return connection.status();
  Connection& c = *connection.value();
  // Check the version before anything writes: switching to WAL would already change the file.
  auto version = internal::read_schema_version(c);
  if (!version) return version.status();
  if (version.value() > schema_version()) return internal::newer_schema(path, version.value());
  if (Status s = check_is_project(c, version.value()); !s) return s;
  if (options.read_only)
    return open_read_only(path, std::move(connection).value(), version.value(), options);
  auto mode = c.prepare("PRAGMA journal_mode = WAL");
  if (!mode) return mode.status();
  if (int rc = mode->step(); rc != SQLITE_ROW) return c.error("switching to WAL", rc);
  mode = Stmt();
  // In WAL, NORMAL loses no committed transaction when a process dies, only on power loss.
  if (Status s = c.exec("PRAGMA synchronous = NORMAL"); !s) return s;
  // Statement journals (every insert with triggers or ON CONFLICT has one) stay in memory instead
  // of a temp file: a million-row import otherwise spends its time in write() calls.
  if (Status s = c.exec("PRAGMA temp_store = MEMORY"); !s) return s;
  if (Status s = c.exec("PRAGMA cache_size = -" + std::to_string(options.cache_mib * 1024)); !s)
    return s;
  if (Status s = internal::migrate(c, schema_version()); !s) return s;
  auto impl = std::make_unique<Impl>(std::move(connection).value(), options.clock);
  return std::unique_ptr<Project>(new Project(path, std::move(impl)));
}

Result<std::unique_ptr<Project>> Project::open_read_only(const std::string& path,
                                                         std::unique_ptr<Connection> connection,
                                                         int version, const OpenOptions& options) {
  if (version < schema_version()) {
    return Status::unsupported(
        "project " + path + " has schema version " + std::to_string(version) +
        ", older than this build's " + std::to_string(schema_version()) +
        ", and was opened read-only: open it once with this capfilt where it is kept (e.g. "
        "`capfilt project stats`) to update it, then copy it again");
  }
  Connection& c = *connection;
  if (Status s = c.exec("PRAGMA temp_store = MEMORY"); !s) return s;
  if (Status s = c.exec("PRAGMA cache_size = -" + std::to_string(options.cache_mib * 1024)); !s)
    return s;
  auto impl = std::make_unique<Impl>(std::move(connection), options.clock);
  return std::unique_ptr<Project>(new Project(path, std::move(impl)));
}

Result<std::string> Project::uuid() {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare("SELECT value FROM settings WHERE key = 'project_uuid'");
  if (!stmt) return stmt.status();
  int rc = stmt->step();
  if (rc == SQLITE_DONE) return Status::corrupt("project " + path_ + " has no project id");
  if (rc != SQLITE_ROW) return c.error("reading the project id", rc);
  return stmt->text(0);
}

Project::Project(std::string path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

Project::~Project() = default;

// ---- Import ----

namespace {

// Inserts one image or finds it; sets *image_id and counts it.
Status upsert_image(Connection& c, const ImageRecord& image, int64_t* image_id,
                    InsertCounts* counts) {
  auto insert = c.prepare(
      "INSERT INTO images(path, width, height, byte_size, content_hash, split) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(path) DO NOTHING");
  if (!insert) return insert.status();
  insert->bind_text(1, image.path).bind_i64(2, image.width).bind_i64(3, image.height);
  insert->bind_i64(4, image.byte_size).bind_text(5, image.content_hash).bind_text(6, image.split);
  if (Status s = c.run(insert.value(), "adding image " + image.path); !s) return s;
  if (sqlite3_changes(c.handle()) == 1) {
    ++counts->images_added;
    *image_id = sqlite3_last_insert_rowid(c.handle());
    return Status::ok();
  }
  ++counts->images_skipped;
  auto find = c.prepare("SELECT id FROM images WHERE path = ?1");
  if (!find) return find.status();
  find->bind_text(1, image.path);
  int rc = find->step();
  if (rc != SQLITE_ROW) return c.error("finding image " + image.path, rc);
  *image_id = find->i64(0);
  return Status::ok();
}

Status insert_caption(Connection& c, int64_t image_id, const CaptionRecord& caption,
                      InsertCounts* counts) {
  auto insert = c.prepare(
      "INSERT INTO captions(image_id, text, source, model_id) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(image_id, text, source) DO NOTHING");
  if (!insert) return insert.status();
  insert->bind_i64(1, image_id).bind_text(2, caption.text).bind_text(3, to_string(caption.source));
  if (caption.model_id != 0) insert->bind_i64(4, caption.model_id);
  if (Status s = c.run(insert.value(), "adding a caption"); !s) return s;
  if (sqlite3_changes(c.handle()) == 1)
    ++counts->captions_added;
  else
    ++counts->captions_skipped;
  return Status::ok();
}

}  // namespace

Result<InsertCounts> Project::insert_pairs(const std::vector<ImageWithCaptions>& batch) {
  Connection& c = *impl_->connection;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  InsertCounts counts;
  for (const auto& item : batch) {
    int64_t image_id = 0;
    if (Status s = upsert_image(c, item.image, &image_id, &counts); !s) return s;
    for (const auto& caption : item.captions) {
      if (Status s = insert_caption(c, image_id, caption, &counts); !s) return s;
    }
  }
  if (Status s = txn.commit(); !s) return s;
  return counts;
}

Result<int64_t> Project::begin_import(const std::string& source_path, const std::string& format,
                                      const std::string& dataset_root) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(
      "INSERT INTO imports(source_path, format, started_ms, dataset_root) VALUES (?1, ?2, ?3, ?4)");
  if (!stmt) return stmt.status();
  stmt->bind_text(1, source_path).bind_text(2, format).bind_i64(3, impl_->clock->now_ms());
  stmt->bind_text(4, dataset_root);
  if (Status s = c.run(stmt.value(), "recording an import"); !s) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(c.handle()));
}

Status Project::finish_import(int64_t import_id, const std::string& status,
                              const InsertCounts& counts, int64_t records_rejected,
                              const std::string& report) {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(
      "UPDATE imports SET status = ?2, images_added = ?3, images_skipped = ?4, "
      "captions_added = ?5, captions_skipped = ?6, records_rejected = ?7, report = ?8, "
      "finished_ms = ?9 WHERE id = ?1");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, import_id).bind_text(2, status).bind_i64(3, counts.images_added);
  stmt->bind_i64(4, counts.images_skipped).bind_i64(5, counts.captions_added);
  stmt->bind_i64(6, counts.captions_skipped).bind_i64(7, records_rejected);
  stmt->bind_text(8, report).bind_i64(9, impl_->clock->now_ms());
  if (Status s = c.run(stmt.value(), "closing an import"); !s) return s;
  if (sqlite3_changes(c.handle()) != 1)
    return Status::not_found("project " + path_ + ": no import " + std::to_string(import_id));
  return Status::ok();
}

Result<std::vector<ImportRun>> Project::import_runs() {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(
      "SELECT id, source_path, format, status, images_added, images_skipped, captions_added, "
      "captions_skipped, records_rejected, report, started_ms, finished_ms, dataset_root FROM imports "
      "ORDER BY id");
  if (!stmt) return stmt.status();
  std::vector<ImportRun> runs;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    ImportRun r;
    r.id = stmt->i64(0);
    r.source_path = stmt->text(1);
    r.format = stmt->text(2);
    r.status = stmt->text(3);
    r.counts = {stmt->i64(4), stmt->i64(5), stmt->i64(6), stmt->i64(7)};
    r.records_rejected = stmt->i64(8);
    r.report = stmt->text(9);
    r.started_ms = stmt->i64(10);
    r.finished_ms = stmt->i64(11);
    r.dataset_root = stmt->text(12);
    runs.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return c.error("listing imports", rc);
  return runs;
}

Result<std::vector<std::string>> Project::dataset_roots() {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare(
      "SELECT dataset_root FROM imports WHERE dataset_root != '' GROUP BY dataset_root "
      "ORDER BY max(id) DESC");
  if (!stmt) return stmt.status();
  std::vector<std::string> roots;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) roots.push_back(stmt->text(0));
  if (rc != SQLITE_DONE) return c.error("listing dataset roots", rc);
  return roots;
}

// ---- Maintenance ----

Status Project::check() {
  Connection& c = *impl_->connection;
  auto integrity = c.prepare("PRAGMA integrity_check");
  if (!integrity) return integrity.status();
  if (int rc = integrity->step(); rc != SQLITE_ROW) return c.error("checking integrity", rc);
  if (integrity->text(0) != "ok")
    return Status::corrupt("project " + path_ + " fails the integrity check: " +
                           integrity->text(0));
  integrity = Stmt();
  // The current decision of each caption must be the latest log entry that was not undone.
  auto derived = c.prepare(
      "SELECT count(*) FROM captions c WHERE c.decision IS NOT coalesce(("
      "SELECT d.decision FROM decisions d WHERE d.caption_id = c.id AND NOT EXISTS "
      "(SELECT 1 FROM decision_undos u WHERE u.decision_id = d.id) ORDER BY d.id DESC LIMIT 1), "
      "'undecided')");
  if (!derived) return derived.status();
  if (int rc = derived->step(); rc != SQLITE_ROW) return c.error("checking decisions", rc);
  if (derived->i64(0) != 0)
    return Status::corrupt("project " + path_ + ": " + std::to_string(derived->i64(0)) +
                           " captions have a current decision that disagrees with the log");
  derived = Stmt();
  // What triggers keep current (schema migration 7) must agree with a recount.
  const struct {
    const char* sql;
    const char* what;
  } kDerived[] = {
      {"SELECT count(*) FROM scores s JOIN captions c ON c.id = s.caption_id "
       "WHERE s.decision IS NOT c.decision OR s.source IS NOT c.source",
       "scores whose copy of their caption's source or decision is stale"},
      {"SELECT count(*) FROM (SELECT source, decision, count(*) AS n FROM captions "
       "GROUP BY source, decision) r FULL JOIN (SELECT * FROM caption_counts WHERE n != 0) k "
       "USING (source, decision) WHERE r.n IS NOT k.n",
       "counts per source and decision that disagree with the captions"},
      {"SELECT count(*) FROM (SELECT model_id, source, decision, "
       "min(max(CAST(itm * 1000 AS INTEGER), 0), 999) AS bin, count(*) AS n FROM scores "
       "GROUP BY 1, 2, 3, 4) r FULL JOIN (SELECT * FROM score_bins WHERE n != 0) k "
       "USING (model_id, source, decision, bin) WHERE r.n IS NOT k.n",
       "score histogram bins that disagree with the scores"},
  };
  for (const auto& check : kDerived) {
    auto stmt = c.prepare(check.sql);
    if (!stmt) return stmt.status();
    if (int rc = stmt->step(); rc != SQLITE_ROW) return c.error("checking counters", rc);
    if (stmt->i64(0) != 0)
      return Status::corrupt("project " + path_ + ": " + std::to_string(stmt->i64(0)) + " " +
                             check.what);
  }
  return Status::ok();
}

}  // namespace capfilt::db
