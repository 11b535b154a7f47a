#include "db/schema.h"

namespace capfilt::db::internal {
namespace {

// 1: the curation records and the append-only decision log.
const char* const kCoreTables = R"sql(
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  checkpoint_path TEXT NOT NULL DEFAULT '',
  config_json TEXT NOT NULL DEFAULT '{}',
  task TEXT NOT NULL DEFAULT '',
  parent_id INTEGER REFERENCES models(id),
  metrics_json TEXT NOT NULL DEFAULT '{}',
  created_ms INTEGER NOT NULL);
CREATE TABLE images(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0,
  byte_size INTEGER NOT NULL DEFAULT 0,
  content_hash TEXT NOT NULL DEFAULT '',
  split TEXT NOT NULL DEFAULT '');
CREATE TABLE captions(
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id),
  text TEXT NOT NULL,
  source TEXT NOT NULL CHECK(source IN ('web', 'synthetic', 'human')),
  model_id INTEGER REFERENCES models(id),
  -- Derived from the decision log in the same transaction as every log change; see check().
  decision TEXT NOT NULL DEFAULT 'undecided' CHECK(decision IN ('undecided', 'keep', 'drop')),
  decided_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(image_id, text, source));
CREATE TABLE scores(
  caption_id INTEGER NOT NULL REFERENCES captions(id),
  model_id INTEGER NOT NULL REFERENCES models(id),
  itm REAL NOT NULL,
  itc REAL NOT NULL,
  PRIMARY KEY(caption_id, model_id)) WITHOUT ROWID;
CREATE INDEX scores_by_itm ON scores(model_id, itm);
CREATE INDEX scores_by_itc ON scores(model_id, itc);
CREATE TABLE decisions(
  id INTEGER PRIMARY KEY,
  caption_id INTEGER NOT NULL REFERENCES captions(id),
  decision TEXT NOT NULL CHECK(decision IN ('keep', 'drop')),
  origin TEXT NOT NULL CHECK(origin IN ('auto', 'curator')),
  curator TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  time_ms INTEGER NOT NULL);
CREATE INDEX decisions_by_caption ON decisions(caption_id, id);
CREATE INDEX decisions_by_curator ON decisions(origin, curator, id);
-- An undo is a new fact, not an edit: the log itself never changes.
CREATE TABLE decision_undos(
  decision_id INTEGER PRIMARY KEY REFERENCES decisions(id),
  curator TEXT NOT NULL,
  time_ms INTEGER NOT NULL);
CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
  BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER decisions_append_only_delete BEFORE DELETE ON decisions
  BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER decision_undos_final BEFORE DELETE ON decision_undos
  BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
)sql";

// 2: jobs, their metrics, and the record of import runs.
const char* const kJobTables = R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  args_json TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'queued',
  pid INTEGER NOT NULL DEFAULT 0,
  progress REAL NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  log_path TEXT NOT NULL DEFAULT '');
CREATE TABLE job_metrics(
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL);
CREATE INDEX job_metrics_by_job ON job_metrics(job_id, name, step);
CREATE TABLE imports(
  id INTEGER PRIMARY KEY,
  source_path TEXT NOT NULL,
  format TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'running',
  images_added INTEGER NOT NULL DEFAULT 0,
  images_skipped INTEGER NOT NULL DEFAULT 0,
  captions_added INTEGER NOT NULL DEFAULT 0,
  captions_skipped INTEGER NOT NULL DEFAULT 0,
  records_rejected INTEGER NOT NULL DEFAULT 0,
  report TEXT NOT NULL DEFAULT '',
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL DEFAULT 0);
)sql";

// 3: full-text search over captions (an external-content FTS5 index kept in step by triggers).
const char* const kCaptionSearch = R"sql(
CREATE VIRTUAL TABLE captions_fts USING fts5(text, content='captions', content_rowid='id');
INSERT INTO captions_fts(captions_fts) VALUES('rebuild');
CREATE TRIGGER captions_fts_insert AFTER INSERT ON captions
  BEGIN INSERT INTO captions_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER captions_fts_delete AFTER DELETE ON captions
  BEGIN INSERT INTO captions_fts(captions_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
CREATE TRIGGER captions_fts_update AFTER UPDATE OF text ON captions BEGIN
  INSERT INTO captions_fts(captions_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO captions_fts(rowid, text) VALUES (new.id, new.text);
END;
)sql";

// 4: indexes for the browsing queries (page filters, counts per decision state).
const char* const kBrowseIndexes = R"sql(
CREATE INDEX captions_by_decision ON captions(decision, source);
CREATE INDEX captions_by_source ON captions(source, decision);
CREATE INDEX images_by_split ON images(split);
)sql";

// 5: each score carries its caption's source (a caption's source never changes), so the ITM
// histogram per source is one walk of one index instead of a join per score (db_bench, 1M
// captions: 2.8 s -> 0.09 s of CPU).
const char* const kScoreSource = R"sql(
ALTER TABLE scores ADD COLUMN source TEXT NOT NULL DEFAULT '';
UPDATE scores SET source = (SELECT c.source FROM captions c WHERE c.id = scores.caption_id);
CREATE INDEX scores_by_source ON scores(model_id, source, itm);
)sql";

// 6: a split listed in path order walks one index instead of sorting the split.
const char* const kSplitPathIndex = R"sql(
DROP INDEX images_by_split;
CREATE INDEX images_by_split_path ON images(split, path);
)sql";

// 7: browsing at any depth without scanning (db_bench, 1M captions). Scores also carry their
// caption's current decision (kept in step by a trigger), so a filtered, score-ordered page is one
// walk of one covering index per (source, decision): (model, source, decision, score, caption id).
// Counts per (source, decision) and per (model, source, decision, ITM bin of 1/1000) are kept
// current by triggers in the transaction of every write, so counts and histograms read a few rows.
const char* const kBrowseCounters = R"sql(
ALTER TABLE scores ADD COLUMN decision TEXT NOT NULL DEFAULT 'undecided';
UPDATE scores SET decision = (SELECT c.decision FROM captions c WHERE c.id = scores.caption_id);
DROP INDEX scores_by_source;
CREATE INDEX scores_by_filter_itm ON scores(model_id, source, decision, itm, caption_id, itc);
CREATE INDEX scores_by_filter_itc ON scores(model_id, source, decision, itc, caption_id, itm);
CREATE INDEX captions_by_decided ON captions(decision, source, decided_ms);
CREATE TRIGGER scores_follow_decision AFTER UPDATE OF decision ON captions
  WHEN new.decision IS NOT old.decision
  BEGIN UPDATE scores SET decision = new.decision WHERE caption_id = new.id; END;

CREATE TABLE caption_counts(
  source TEXT NOT NULL,
  decision TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY(source, decision)) WITHOUT ROWID;
INSERT INTO caption_counts(source, decision, n)
  SELECT source, decision, count(*) FROM captions GROUP BY source, decision;
CREATE TRIGGER caption_counts_insert AFTER INSERT ON captions BEGIN
  INSERT INTO caption_counts(source, decision, n) VALUES (new.source, new.decision, 1)
    ON CONFLICT(source, decision) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER caption_counts_delete AFTER DELETE ON captions BEGIN
  UPDATE caption_counts SET n = n - 1 WHERE source = old.source AND decision = old.decision;
END;
CREATE TRIGGER caption_counts_update AFTER UPDATE OF source, decision ON captions
  WHEN new.source IS NOT old.source OR new.decision IS NOT old.decision BEGIN
  UPDATE caption_counts SET n = n - 1 WHERE source = old.source AND decision = old.decision;
  INSERT INTO caption_counts(source, decision, n) VALUES (new.source, new.decision, 1)
    ON CONFLICT(source, decision) DO UPDATE SET n = n + 1;
END;

CREATE TABLE score_bins(
  model_id INTEGER NOT NULL,
  source TEXT NOT NULL,
  decision TEXT NOT NULL,
  bin INTEGER NOT NULL,  -- min(max(floor(itm * 1000), 0), 999); CAST truncates, as floor for itm >= 0
  n INTEGER NOT NULL,
  PRIMARY KEY(model_id, source, decision, bin)) WITHOUT ROWID;
INSERT INTO score_bins(model_id, source, decision, bin, n)
  SELECT model_id, source, decision, min(max(CAST(itm * 1000 AS INTEGER), 0), 999), count(*)
  FROM scores GROUP BY 1, 2, 3, 4;
CREATE TRIGGER score_bins_insert AFTER INSERT ON scores BEGIN
  INSERT INTO score_bins(model_id, source, decision, bin, n)
    VALUES (new.model_id, new.source, new.decision,
            min(max(CAST(new.itm * 1000 AS INTEGER), 0), 999), 1)
    ON CONFLICT(model_id, source, decision, bin) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER score_bins_delete AFTER DELETE ON scores BEGIN
  UPDATE score_bins SET n = n - 1 WHERE model_id = old.model_id AND source = old.source AND
    decision = old.decision AND bin = min(max(CAST(old.itm * 1000 AS INTEGER), 0), 999);
END;
CREATE TRIGGER score_bins_update AFTER UPDATE OF model_id, source, decision, itm ON scores BEGIN
  UPDATE score_bins SET n = n - 1 WHERE model_id = old.model_id AND source = old.source AND
    decision = old.decision AND bin = min(max(CAST(old.itm * 1000 AS INTEGER), 0), 999);
  INSERT INTO score_bins(model_id, source, decision, bin, n)
    VALUES (new.model_id, new.source, new.decision,
            min(max(CAST(new.itm * 1000 AS INTEGER), 0), 999), 1)
    ON CONFLICT(model_id, source, decision, bin) DO UPDATE SET n = n + 1;
END;
)sql";

// 8: where an import's relative image paths point (the dataset root), so CapFilt, training and
// the studio find the image files again.
const char* const kImportRoot = R"sql(
ALTER TABLE imports ADD COLUMN dataset_root TEXT NOT NULL DEFAULT '';
)sql";

// 9: project-wide settings the studio and the command line share (which model is the project's
// captioner and which its filter), one text value per key.
const char* const kSettings = R"sql(
CREATE TABLE settings(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL) WITHOUT ROWID;
)sql";

// 10: the project's identity, so a CapFilt results file made on another machine from a copy of
// the project is merged into that project and no other (db/capfilt_results.h). Copies share it.
const char* const kProjectId = R"sql(
WITH r(h) AS (SELECT lower(hex(randomblob(16))))
INSERT INTO settings(key, value)
  SELECT 'project_uuid', substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' ||
                         substr(h, 17, 4) || '-' || substr(h, 21) FROM r;
)sql";

}  // namespace

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kMigrations = {
      kCoreTables,     kJobTables,      kCaptionSearch, kBrowseIndexes, kScoreSource,
      kSplitPathIndex, kBrowseCounters, kImportRoot,    kSettings,      kProjectId};
  return kMigrations;
}

Result<int> read_schema_version(Connection& connection) {
  auto stmt = connection.prepare("PRAGMA user_version");
  if (!stmt) return stmt.status();
  int rc = stmt->step();
  if (rc != SQLITE_ROW) return connection.error("reading the schema version", rc);
  return static_cast<int>(stmt->i64(0));
}

Status newer_schema(const std::string& path, int version) {
  return Status::unsupported("project " + path + " has schema version " +
                             std::to_string(version) +
                             " but this build of capfilt supports up to version " +
                             std::to_string(migrations().size()) +
                             "; open it with a newer capfilt (the file was not modified)");
}

Status migrate(Connection& connection, int target) {
  const int newest = static_cast<int>(migrations().size());
  for (;;) {
    WriteTransaction txn(connection);
    if (Status s = txn.begin(); !s) return s;
    // Read inside the write lock so two processes opening one old file migrate it once.
    auto version = read_schema_version(connection);
    if (!version) return version.status();
    if (version.value() > newest) return newer_schema(connection.path(), version.value());
    if (version.value() >= target) return Status::ok();
    if (Status s = connection.exec(migrations()[version.value()]); !s) return s;
    if (Status s = connection.exec("PRAGMA user_version = " + std::to_string(version.value() + 1));
        !s)
      return s;
    if (Status s = txn.commit(); !s) return s;
  }
}

}  // namespace capfilt::db::internal
