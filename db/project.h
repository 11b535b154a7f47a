#pragma once
// A curation project: one SQLite file holding images, captions, scores, the decision log, models
// and jobs. See db/records.h for the records.
//
// Threading: a Project is one SQLite connection; call it from one thread at a time. Several
// Projects (in threads or processes) may open the same file at once: readers never block (WAL);
// a writer that finds another writer waits up to OpenOptions::busy_timeout_ms, then fails with
// Status::Code::kBusy. Every write method is one transaction: it either happens whole or not at
// all, also when the process is killed during it.
//
// Errors: methods return a Status / Result whose message names the project file and what failed.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/capfilt_results.h"
#include "db/clock.h"
#include "db/records.h"
#include "db/status.h"

namespace capfilt::db {

// Settings keys: the id (as text) of the model the project uses as its captioner / filter.
inline constexpr const char* kCaptionerSetting = "captioner_model_id";
inline constexpr const char* kFilterSetting = "filter_model_id";
namespace internal {
class Connection;
}

// The schema version this build writes. A file with a newer version is refused, not modified.
int schema_version();

struct OpenOptions {
  bool create_if_missing = true;
  // How long a write waits for another process's write to finish before returning kBusy.
  int busy_timeout_ms = 5000;
  // Page cache of this connection. Big imports and queries over millions of captions run faster
  // with more; SQLite's own default (2 MiB) makes a 1M-caption import spill to disk constantly.
  int cache_mib = 64;
  // Opens the file read-only (SQLITE_OPEN_READONLY): nothing is ever written, so a file older than
  // this build is refused (kUnsupported) instead of migrated, and every write method fails.
  // For a CapFilt run on a copy of a project that writes its results elsewhere.
  bool read_only = false;
  // Time source for decision, job and import times. Not owned; must outlive the Project.
  // nullptr = the system clock.
  const Clock* clock = nullptr;
};

class Project {
 public:
  // Opens (or creates) the project at `path` and migrates an older schema to schema_version().
  // Fails with kUnsupported, leaving the file untouched, when the file is newer than this build;
  // kNotFound when it is missing and !create_if_missing; kCorrupt when it is not a project.
  static Result<std::unique_ptr<Project>> open(const std::string& path,
                                               const OpenOptions& options = {});
  ~Project();
  Project(const Project&) = delete;
  Project& operator=(const Project&) = delete;

  const std::string& path() const { return path_; }
  // The project's identity: made once when the project is created (or migrated to schema 9) and
  // shared by every copy of the file. CapFilt results files record it (db/capfilt_results.h).
  Result<std::string> uuid();

  // ---- Import / export (used by core/ importers and exporters) ----

  // Inserts a batch in one transaction. Idempotent: images are unique by path, captions by
  // (image, text, source); duplicates are counted as skipped, also within the batch.
  Result<InsertCounts> insert_pairs(const std::vector<ImageWithCaptions>& batch);

  // Records the start of an import (status "running"); returns its id. `dataset_root` is the
  // folder the import's relative image paths are relative to.
  Result<int64_t> begin_import(const std::string& source_path, const std::string& format,
                               const std::string& dataset_root = {});
  // Closes an import with its final status, counts, rejected records and report.
  Status finish_import(int64_t import_id, const std::string& status, const InsertCounts& counts,
                       int64_t records_rejected, const std::string& report);
  Result<std::vector<ImportRun>> import_runs();
  // The distinct dataset roots of the imports, newest first: where relative image paths resolve.
  Result<std::vector<std::string>> dataset_roots();

  // Calls `visit` for every pair matching `filter`, ordered by image path then caption id, from one
  // consistent snapshot. A non-ok Status from `visit` stops the walk and is returned.
  Status for_each_pair(const PairFilter& filter,
                       const std::function<Status(const PairRow&)>& visit);

  // ---- Browsing ----

  // A page of pairs in the request's filter and order: rows after `request.after` (if set), then
  // `offset` rows skipped, then up to `limit`. The rows come from a walk of the index of the sort
  // key, per (source, decision) when the filter names them, reading only keys and caption ids;
  // the full rows are then read for the page alone. An offset in the second half of the list
  // (when the total is known) walks from the other end.
  Result<Page> page(const PageRequest& request);
  // The pairs page(request) lists in all (after, offset and limit ignored); what Page::total holds.
  Result<int64_t> count(const PageRequest& request);
  // "Jump to position N": the key of the row at 0-based `position` of the request's filter and
  // order (counted after `request.after` when set; offset and limit ignored); nullopt past the end.
  // Page on from it with `after` set to it and offset 0 — the row itself then comes first with
  // page(after = key_at(position - 1)), so pass position - 1 to start a page at `position`.
  Result<std::optional<SortKey>> key_at(const PageRequest& request, int64_t position);
  // From counters that every write keeps current in its transaction: no scan.
  Result<DecisionCounts> decision_counts();
  // One histogram per caption source that has scores from `model_id` (0 = latest scored model).
  // A bin count dividing 1000 (10, 20, 50, 100, ...) adds up counters kept current by every write
  // (1000 fine bins per source); any other walks every score of the model.
  Result<std::vector<ScoreHistogram>> itm_histogram(int bins, int64_t model_id = 0);
  Result<PairRow> pair(int64_t caption_id);

  // ---- Decisions ----

  // Appends the decisions to the log in one transaction; each becomes its caption's current one.
  // Fails with kNotFound (nothing written) when a caption does not exist.
  Status decide(const std::vector<DecisionInput>& decisions);
  // Undoes the latest `count` decisions of `curator` (origin curator) that are still in force:
  // each caption's current decision returns to what it was before. The log keeps every row; an
  // undone row is marked with who undid it and when. Returns how many were undone.
  Result<int64_t> undo(const std::string& curator, int64_t count = 1);
  // Undoes the automatic decisions that `rule` (their curator field) logged after log row
  // `after_decision_id` and that are still in force; recorded as undone by `undone_by`. This is
  // how applying a threshold is undone. Returns how many were undone.
  Result<int64_t> undo_automatic(const std::string& rule, int64_t after_decision_id,
                                 const std::string& undone_by);
  // The id of the newest row of the decision log; 0 when it is empty.
  Result<int64_t> last_decision_id();
  // The log of one caption, oldest first (caption_id 0: the whole log).
  Result<std::vector<DecisionLogEntry>> decision_log(int64_t caption_id = 0);

  // ---- Scores and models ----

  Result<int64_t> add_model(const ModelRecord& model);
  // The id of the model whose checkpoint_path equals model.checkpoint_path, adding `model` when
  // there is none — in one write transaction, so processes registering one model at once agree.
  Result<int64_t> find_or_add_model(const ModelRecord& model);
  Result<ModelRecord> model(int64_t model_id);
  Result<std::vector<ModelRecord>> models();
  Status update_model_metrics(int64_t model_id, const std::string& metrics_json);
  // Inserts or replaces scores in one transaction.
  Status put_scores(const std::vector<Score>& scores);
  // Stores one CapFilt batch in one transaction: synthetic captions (an existing identical caption
  // is reused), scores (replacing the same model's), and for every scored web or synthetic caption
  // an automatic decision (origin auto, curator "filter#<id> itm<threshold>") unless a curator's
  // decision is in force or the same rule already decided it the same way. Human captions are
  // never decided automatically. Re-running the same batch changes nothing.
  Result<CapfiltBatchCounts> store_capfilt_batch(const CapfiltBatch& batch);
  // Folds a finished CapFilt results file (made by a run on a copy of this project, maybe on
  // another machine) into the project in one transaction, as store_capfilt_batch would have stored
  // its batches: idempotent, never over a curator's decision. Images and captions are found by
  // path and text, the models by their identity (see CapfiltMerge). Refused, with nothing written:
  // kInvalid for a file of another project or made with models other than the ones this project
  // registers under their id or checkpoint path; kNotFound when an image or caption it names is
  // not in the project.
  Result<CapfiltMerge> merge_capfilt_results(CapfiltResultsFile& file);

  // ---- Jobs ----

  Result<int64_t> add_job(const JobRecord& job);  // created_ms from the clock
  Result<JobRecord> job(int64_t job_id);
  Result<std::vector<JobRecord>> jobs();
  // Sets status, pid, progress, error; started_ms / finished_ms from the clock on entering
  // kRunning / a final state.
  Status update_job(int64_t job_id, JobStatus status, int64_t pid, double progress,
                    const std::string& error = {});
  Status set_job_log_path(int64_t job_id, const std::string& log_path);
  Status add_job_metrics(int64_t job_id, const std::vector<JobMetric>& metrics);
  // Metrics of a job, by step; `name` empty = all names.
  Result<std::vector<JobMetric>> job_metrics(int64_t job_id, const std::string& name = {});

  // ---- Settings ----

  // Project-wide settings (key -> text), e.g. kCaptionerSetting. Empty text for a key never set.
  Result<std::string> setting(const std::string& key);
  // Sets (or, with empty `value`, removes) one key in one transaction.
  Status set_setting(const std::string& key, const std::string& value);

  // ---- Maintenance ----

  // PRAGMA integrity_check plus a check that every caption's current decision matches its log.
  Status check();

 private:
  class Impl;
  Project(std::string path, std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<Project>> open_read_only(
      const std::string& path, std::unique_ptr<internal::Connection> connection, int version,
      const OpenOptions& options);

  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace capfilt::db
