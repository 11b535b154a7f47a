#include "db/capfilt_results.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "db/sqlite.h"

namespace capfilt::db {

using internal::Connection;
using internal::ReadTransaction;
using internal::Stmt;
using internal::WriteTransaction;

namespace {

constexpr int kApplicationId = 0x43465273;  // 'CFRs'
constexpr const char* kFormat = "capfilt-results 1";
constexpr const char* kLabel = "results file";

const char* const kSchema = R"sql(
CREATE TABLE header(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE images(
  n INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL UNIQUE,  -- in the project the run read
  path TEXT NOT NULL);
CREATE TABLE synthetic(
  image INTEGER NOT NULL REFERENCES images(n),
  k INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY(image, k)) WITHOUT ROWID;
CREATE TABLE scores(
  image INTEGER NOT NULL REFERENCES images(n),
  k INTEGER NOT NULL,
  caption_id INTEGER NOT NULL,       -- in the project the run read; 0 = synthetic caption
  synthetic_index INTEGER NOT NULL,  -- k of the synthetic caption; -1 = an existing caption
  source TEXT NOT NULL,
  text TEXT NOT NULL,
  itm REAL NOT NULL,
  itc REAL NOT NULL,
  proposal TEXT NOT NULL CHECK(proposal IN ('keep', 'drop')),
  PRIMARY KEY(image, k)) WITHOUT ROWID;
)sql";

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Result<int64_t> single_i64(Connection& c, const std::string& sql, const std::string& what) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.status();
  const int rc = stmt->step();
  if (rc != SQLITE_ROW) return c.error(what, rc);
  return stmt->i64(0);
}

// 0 for an empty new file, kApplicationId for a results file.
Status check_application_id(Connection& c, bool allow_empty) {
  auto id = single_i64(c, "PRAGMA application_id", "reading the file type");
  if (!id) return id.status();
  if (id.value() == kApplicationId) return Status::ok();
  if (id.value() == 0 && allow_empty) {
    auto tables = single_i64(c, "SELECT count(*) FROM sqlite_master", "reading the schema");
    if (!tables) return tables.status();
    if (tables.value() == 0) return Status::ok();
  }
  return Status::invalid(std::string(kLabel) + " " + c.path() +
                         " is not a CapFilt results file (a project, or another SQLite file?)");
}

void put_model(std::map<std::string, std::string>& kv, const std::string& role,
               const ModelRecord& m) {
  kv[role + "_id"] = std::to_string(m.id);
  kv[role + "_name"] = m.name;
  kv[role + "_path"] = m.checkpoint_path;
  kv[role + "_task"] = m.task;
  kv[role + "_config"] = m.config_json;
}

ModelRecord get_model(const std::map<std::string, std::string>& kv, const std::string& role) {
  auto at = [&](const std::string& key) {
    auto it = kv.find(role + "_" + key);
    return it == kv.end() ? std::string() : it->second;
  };
  ModelRecord m;
  m.id = std::atoll(at("id").c_str());
  m.name = at("name");
  m.checkpoint_path = at("path");
  m.task = at("task");
  m.config_json = at("config");
  return m;
}

bool same_model(const ModelRecord& a, const ModelRecord& b) {
  return a.id == b.id && a.checkpoint_path == b.checkpoint_path && a.config_json == b.config_json;
}

}  // namespace

bool same_run(const CapfiltResultsHeader& a, const CapfiltResultsHeader& b) {
  return a.project_uuid == b.project_uuid && same_model(a.captioner, b.captioner) &&
         same_model(a.filter, b.filter) && a.threshold == b.threshold &&
         a.shard_index == b.shard_index && a.shard_count == b.shard_count &&
         a.run_json == b.run_json;
}

std::string config_fingerprint(const std::string& config_json) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : config_json) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

CapfiltResultsFile::CapfiltResultsFile(std::string path, std::unique_ptr<Connection> connection)
    : path_(std::move(path)), connection_(std::move(connection)) {}

CapfiltResultsFile::~CapfiltResultsFile() = default;

Result<std::unique_ptr<CapfiltResultsFile>> CapfiltResultsFile::open_for_run(
    const std::string& path, const CapfiltResultsHeader& header) {
  auto connection = Connection::open(path, true, 5000, false, kLabel);
  if (!connection) return connection.status();
  Connection& c = *connection.value();
  if (Status s = check_application_id(c, true); !s) return s;
  std::unique_ptr<CapfiltResultsFile> file(
      new CapfiltResultsFile(path, std::move(connection).value()));
  auto tables = single_i64(c, "SELECT count(*) FROM sqlite_master", "reading the schema");
  if (!tables) return tables.status();
  if (tables.value() == 0) {  // a new file
    WriteTransaction txn(c);
    if (Status s = txn.begin(); !s) return s;
    if (Status s = c.exec(kSchema); !s) return s;
    if (Status s = c.exec("PRAGMA application_id = " + std::to_string(kApplicationId)); !s)
      return s;
    file->header_ = header;
    if (Status s = file->write_header(); !s) return s;
    if (Status s = txn.commit(); !s) return s;
    return file;
  }
  if (Status s = file->read_header(); !s) return s;
  if (!same_run(file->header_, header)) {
    return Status::invalid(std::string(kLabel) + " " + path + " holds a run of shard " +
                           std::to_string(file->header_.shard_index) + "/" +
                           std::to_string(file->header_.shard_count) +
                           " with other models, "
                           "options or project than this one; give this run another file");
  }
  auto unfinish = c.prepare("UPDATE header SET value = '0' WHERE key = 'finished'");
  if (!unfinish) return unfinish.status();
  if (Status s = c.run(unfinish.value(), "reopening the run"); !s) return s;
  file->finished_ = false;
  return file;
}

Result<std::unique_ptr<CapfiltResultsFile>> CapfiltResultsFile::open_for_merge(
    const std::string& path) {
  auto file = open_checked(path);
  const Status& s = file.status();
  if (!file && s.code() == Status::Code::kCorrupt &&
      s.message().find("copy it again") == std::string::npos) {
    return Status::corrupt(s.message() +
                           "; copy it again from the machine that made it, or "
                           "run its shard again");
  }
  return file;
}

Result<std::unique_ptr<CapfiltResultsFile>> CapfiltResultsFile::open_checked(
    const std::string& path) {
  if (!file_exists(path))
    return Status::not_found(std::string(kLabel) + " " + path + " does not exist");
  auto connection = Connection::open(path, false, 5000, false, kLabel);
  if (!connection) return connection.status();
  Connection& c = *connection.value();
  if (Status s = check_application_id(c, false); !s) return s;
  {
    auto check = c.prepare("PRAGMA integrity_check(1)");
    if (!check) return check.status();
    const int rc = check->step();
    if (rc != SQLITE_ROW) return c.error("checking the file", rc);
    if (check->text(0) != "ok") {
      std::string why = check->text(0);
      for (char& ch : why) ch = ch == '\n' ? ' ' : ch;
      return Status::corrupt(std::string(kLabel) + " " + path + " is damaged (" + why +
                             "); copy it again from the machine that made it, or run its shard "
                             "again");
    }
  }
  std::unique_ptr<CapfiltResultsFile> file(
      new CapfiltResultsFile(path, std::move(connection).value()));
  if (Status s = file->read_header(); !s) return s;
  if (!file->finished_) {
    return Status::invalid(std::string(kLabel) + " " + path + " is unfinished: its run (shard " +
                           std::to_string(file->header_.shard_index) + "/" +
                           std::to_string(file->header_.shard_count) +
                           ") was stopped or killed; run the same command again to finish it");
  }
  // The counts recorded by finish() against the rows: a file cut short or spliced disagrees.
  for (const char* table : {"images", "synthetic", "scores"}) {
    auto rows = single_i64(c, std::string("SELECT count(*) FROM ") + table, "counting rows");
    if (!rows) return rows.status();
    auto recorded = single_i64(
        c,
        std::string("SELECT CAST(value AS INTEGER) FROM header WHERE key = 'count_") + table + "'",
        "reading the counts");
    if (!recorded || recorded.value() != rows.value()) {
      return Status::corrupt(std::string(kLabel) + " " + path + " is damaged: it holds " +
                             std::to_string(rows.value()) + " rows of " + table +
                             " but its run wrote " +
                             (recorded ? std::to_string(recorded.value()) : std::string("?")) +
                             "; copy it again, or run its shard again");
    }
  }
  return file;
}

Status CapfiltResultsFile::write_header() {
  std::map<std::string, std::string> kv;
  kv["format"] = kFormat;
  kv["project_uuid"] = header_.project_uuid;
  kv["project_path"] = header_.project_path;
  put_model(kv, "captioner", header_.captioner);
  put_model(kv, "filter", header_.filter);
  kv["threshold"] = number(header_.threshold);
  kv["shard_index"] = std::to_string(header_.shard_index);
  kv["shard_count"] = std::to_string(header_.shard_count);
  kv["run"] = header_.run_json;
  kv["finished"] = "0";
  kv["images_failed"] = "0";
  Connection& c = *connection_;
  for (const auto& [key, value] : kv) {
    auto stmt = c.prepare("INSERT OR REPLACE INTO header(key, value) VALUES (?1, ?2)");
    if (!stmt) return stmt.status();
    stmt->bind_text(1, key).bind_text(2, value);
    if (Status s = c.run(stmt.value(), "writing the header"); !s) return s;
  }
  return Status::ok();
}

Status CapfiltResultsFile::read_header() {
  Connection& c = *connection_;
  std::map<std::string, std::string> kv;
  auto stmt = c.prepare("SELECT key, value FROM header");
  if (!stmt) return stmt.status();
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) kv[stmt->text(0)] = stmt->text(1);
  if (rc != SQLITE_DONE) return c.error("reading the header", rc);
  if (kv["format"] != kFormat) {
    return Status::unsupported(std::string(kLabel) + " " + path_ + " is of format '" +
                               kv["format"] + "', which this build of capfilt does not read");
  }
  header_.project_uuid = kv["project_uuid"];
  header_.project_path = kv["project_path"];
  header_.captioner = get_model(kv, "captioner");
  header_.filter = get_model(kv, "filter");
  header_.threshold = std::strtod(kv["threshold"].c_str(), nullptr);
  header_.shard_index = std::atoi(kv["shard_index"].c_str());
  header_.shard_count = std::atoi(kv["shard_count"].c_str());
  header_.run_json = kv["run"];
  finished_ = kv["finished"] == "1";
  images_failed_ = std::atoll(kv["images_failed"].c_str());
  return Status::ok();
}

Result<std::vector<int64_t>> CapfiltResultsFile::image_ids() {
  Connection& c = *connection_;
  auto stmt = c.prepare("SELECT image_id FROM images ORDER BY n");
  if (!stmt) return stmt.status();
  std::vector<int64_t> ids;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) ids.push_back(stmt->i64(0));
  if (rc != SQLITE_DONE) return c.error("reading the images", rc);
  return ids;
}

Status CapfiltResultsFile::append(const CapfiltBatch& batch) {
  Connection& c = *connection_;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  for (const CapfiltImageResult& image : batch.images) {
    auto add = c.prepare("INSERT INTO images(image_id, path) VALUES (?1, ?2)");
    if (!add) return add.status();
    add->bind_i64(1, image.image_id).bind_text(2, image.path);
    if (Status s = c.run(add.value(), "adding image " + image.path); !s) return s;
    const int64_t n = sqlite3_last_insert_rowid(c.handle());
    for (size_t k = 0; k < image.synthetic.size(); ++k) {
      auto syn = c.prepare("INSERT INTO synthetic(image, k, text) VALUES (?1, ?2, ?3)");
      if (!syn) return syn.status();
      syn->bind_i64(1, n).bind_i64(2, static_cast<int64_t>(k)).bind_text(3, image.synthetic[k]);
      if (Status s = c.run(syn.value(), "adding a synthetic caption"); !s) return s;
    }
    for (size_t k = 0; k < image.scores.size(); ++k) {
      const CapfiltCaptionScore& score = image.scores[k];
      const bool synthetic = score.caption_id == 0;
      if (synthetic && (score.synthetic_index < 0 ||
                        score.synthetic_index >= static_cast<int>(image.synthetic.size()))) {
        return Status::invalid("CapFilt batch: a score names no caption");
      }
      auto row = c.prepare(
          "INSERT INTO scores(image, k, caption_id, synthetic_index, source, text, itm, itc, "
          "proposal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      if (!row) return row.status();
      row->bind_i64(1, n).bind_i64(2, static_cast<int64_t>(k)).bind_i64(3, score.caption_id);
      row->bind_i64(4, synthetic ? score.synthetic_index : -1);
      row->bind_text(5, synthetic ? "synthetic" : to_string(score.source));
      row->bind_text(
          6, synthetic ? image.synthetic[static_cast<size_t>(score.synthetic_index)] : score.text);
      row->bind_f64(7, score.itm).bind_f64(8, score.itc);
      row->bind_text(9, score.itm < header_.threshold ? "drop" : "keep");
      if (Status s = c.run(row.value(), "adding a score"); !s) return s;
    }
  }
  return txn.commit();
}

Status CapfiltResultsFile::finish(int64_t images_failed) {
  Connection& c = *connection_;
  WriteTransaction txn(c);
  if (Status s = txn.begin(); !s) return s;
  std::map<std::string, std::string> kv;
  for (const char* table : {"images", "synthetic", "scores"}) {
    auto rows = single_i64(c, std::string("SELECT count(*) FROM ") + table, "counting rows");
    if (!rows) return rows.status();
    kv[std::string("count_") + table] = std::to_string(rows.value());
  }
  kv["images_failed"] = std::to_string(images_failed);
  kv["finished"] = "1";
  for (const auto& [key, value] : kv) {
    auto stmt = c.prepare("INSERT OR REPLACE INTO header(key, value) VALUES (?1, ?2)");
    if (!stmt) return stmt.status();
    stmt->bind_text(1, key).bind_text(2, value);
    if (Status s = c.run(stmt.value(), "finishing the file"); !s) return s;
  }
  if (Status s = txn.commit(); !s) return s;
  finished_ = true;
  images_failed_ = images_failed;
  return Status::ok();
}

Status CapfiltResultsFile::for_each_image(
    const std::function<Status(const CapfiltImageResult&)>& visit) {
  Connection& c = *connection_;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto images = c.prepare("SELECT n, image_id, path FROM images ORDER BY n");
  if (!images) return images.status();
  int rc;
  while ((rc = images->step()) == SQLITE_ROW) {
    CapfiltImageResult image;
    const int64_t n = images->i64(0);
    image.image_id = images->i64(1);
    image.path = images->text(2);
    auto syn = c.prepare("SELECT text FROM synthetic WHERE image = ?1 ORDER BY k");
    if (!syn) return syn.status();
    syn->bind_i64(1, n);
    while ((rc = syn->step()) == SQLITE_ROW) image.synthetic.push_back(syn->text(0));
    if (rc != SQLITE_DONE) return c.error("reading synthetic captions", rc);
    syn = Stmt();
    auto scores = c.prepare(
        "SELECT caption_id, synthetic_index, source, text, itm, itc, proposal FROM scores "
        "WHERE image = ?1 ORDER BY k");
    if (!scores) return scores.status();
    scores->bind_i64(1, n);
    while ((rc = scores->step()) == SQLITE_ROW) {
      CapfiltCaptionScore score;
      score.caption_id = scores->i64(0);
      score.synthetic_index = static_cast<int>(scores->i64(1));
      score.itm = scores->f64(4);
      score.itc = scores->f64(5);
      score.text = scores->text(3);
      const bool source_ok = parse(scores->text(2), &score.source);
      const bool index_ok =
          score.caption_id != 0
              ? score.synthetic_index == -1
              : score.synthetic_index >= 0 &&
                    score.synthetic_index < static_cast<int>(image.synthetic.size());
      const bool proposal_ok = scores->text(6) == (score.itm < header_.threshold ? "drop" : "keep");
      if (!source_ok || !index_ok || !proposal_ok) {
        return Status::corrupt(std::string(kLabel) + " " + path_ + " is damaged: a score of " +
                               image.path +
                               " does not agree with the file's captions or "
                               "threshold; run its shard again");
      }
      image.scores.push_back(std::move(score));
    }
    if (rc != SQLITE_DONE) return c.error("reading scores", rc);
    scores = Stmt();
    if (Status s = visit(image); !s) return s;
  }
  if (rc != SQLITE_DONE) return c.error("reading images", rc);
  return Status::ok();
}

}  // namespace capfilt::db
