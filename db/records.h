#pragma once
// Plain records stored in a project (db/project.h). No SQLite types leak through here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace capfilt::db {

enum class CaptionSource { kWeb, kSynthetic, kHuman };
// The current decision of a caption, derived from the decision log. kUndecided is never logged.
enum class Decision { kUndecided, kKeep, kDrop };
enum class DecisionOrigin { kAuto, kCurator };

// Stable lower-case names used in the file and on the command line ("web", "keep", "curator", ...).
const char* to_string(CaptionSource source);
const char* to_string(Decision decision);
const char* to_string(DecisionOrigin origin);
// False when `name` is not one of the names above.
bool parse(const std::string& name, CaptionSource* out);
bool parse(const std::string& name, Decision* out);
bool parse(const std::string& name, DecisionOrigin* out);

struct ImageRecord {
  std::string path;          // relative to the dataset root, '/'-separated; unique in a project
  int width = 0;             // pixels; 0 when not yet known
  int height = 0;
  int64_t byte_size = 0;     // of the file on disk; 0 when not yet known
  std::string content_hash;  // hex digest of the file bytes; empty when not yet known
  std::string split;         // "train", "val", "test" or empty
};

struct CaptionRecord {
  std::string text;  // UTF-8
  CaptionSource source = CaptionSource::kWeb;
  int64_t model_id = 0;  // the model that wrote a synthetic caption; 0 = none / unknown
};

// One image and its captions, the unit of a batch insert.
struct ImageWithCaptions {
  ImageRecord image;
  std::vector<CaptionRecord> captions;
};

// What a batch insert did. An image is skipped when its path is already in the project (its
// stored fields are left as they are); a caption when the same (image, text, source) exists.
struct InsertCounts {
  int64_t images_added = 0;
  int64_t images_skipped = 0;
  int64_t captions_added = 0;
  int64_t captions_skipped = 0;
  InsertCounts& operator+=(const InsertCounts& o);
};

// One run of an importer, kept so a curator can see where the pairs came from.
struct ImportRun {
  int64_t id = 0;              // assigned by the store
  std::string source_path;     // the annotation file, folder or shard pattern imported
  std::string format;          // "coco", "blip-json", "csv", "jsonl", "folder", "webdataset", ...
  std::string status;          // "running", "completed", "failed", "cancelled"
  InsertCounts counts;
  int64_t records_rejected = 0;  // bad input not imported (see report)
  std::string report;            // one line per rejected record: file, line/record, why
  int64_t started_ms = 0;
  int64_t finished_ms = 0;       // 0 while running
  std::string dataset_root;      // folder the image paths are relative to ("" before schema 7)
};

struct ModelRecord {
  int64_t id = 0;               // assigned by the store
  std::string name;
  std::string checkpoint_path;
  std::string config_json;      // the model configuration, as JSON text
  std::string task;             // "pretrain", "captioner", "filter", "vqa", ...
  int64_t parent_id = 0;        // the model it was fine-tuned from; 0 = none
  std::string metrics_json;     // evaluation results, as JSON text
  int64_t created_ms = 0;
};

// A decision to log. The time comes from the store's clock.
struct DecisionInput {
  int64_t caption_id = 0;
  Decision decision = Decision::kKeep;  // kKeep or kDrop
  DecisionOrigin origin = DecisionOrigin::kCurator;
  std::string curator;  // who decided; for kAuto, the rule or model (e.g. "filter#3 itm<0.5")
  std::string reason;
};

// A row of the append-only decision log.
struct DecisionLogEntry {
  int64_t id = 0;
  int64_t caption_id = 0;
  Decision decision = Decision::kKeep;
  DecisionOrigin origin = DecisionOrigin::kCurator;
  std::string curator;
  std::string reason;
  int64_t time_ms = 0;
  int64_t undone_ms = 0;  // when it was undone; 0 = still in force (or superseded)
  std::string undone_by;  // the curator who undid it
};

struct Score {
  int64_t caption_id = 0;
  int64_t model_id = 0;
  double itm = 0;  // image-text match probability in [0, 1]
  double itc = 0;  // image-text contrastive similarity (cosine)
};

// An image-caption pair as a page or an export sees it.
struct PairRow {
  int64_t caption_id = 0;
  int64_t image_id = 0;
  ImageRecord image;
  CaptionRecord caption;
  Decision decision = Decision::kUndecided;
  int64_t decided_ms = 0;    // time of the current decision; 0 when undecided
  std::string decided_by;    // who made it: the curator's name, "auto" for CapFilt; empty when undecided
  std::optional<double> itm; // the score model's scores, when it has scored this caption
  std::optional<double> itc;
};

// Which pairs a page or an export covers. Empty lists mean "any".
struct PairFilter {
  std::vector<Decision> decisions;     // current decision, kUndecided included
  std::vector<CaptionSource> sources;
  std::string split;                   // empty = any
  // Score filters and score columns refer to this model; 0 = the most recently added model that
  // has scores. Pairs the model has not scored fail any score range.
  int64_t score_model_id = 0;
  std::optional<double> itm_min, itm_max;  // inclusive
  std::optional<double> itc_min, itc_max;
  std::string text_query;  // FTS5 query over caption text (e.g. "red circle", "dog OR cat")
};

enum class PairSort { kCaptionId, kItm, kItc, kPath, kDecidedTime };

// A position in a sorted list of pairs: the sort key and caption id of one row. Every order breaks
// ties on equal keys by caption id (in the same direction), so a SortKey names one place exactly.
struct SortKey {
  double number = 0;  // kItm, kItc: the score; kDecidedTime: decided_ms; kCaptionId: the id
  std::string text;   // kPath: the image path
  int64_t caption_id = 0;
  bool operator==(const SortKey& o) const {
    return number == o.number && text == o.text && caption_id == o.caption_id;
  }
};

// The key of `row` in `sort` (an unscored row's score counts as 0).
SortKey sort_key(const PairRow& row, PairSort sort);

struct PageRequest {
  PairFilter filter;
  PairSort sort = PairSort::kCaptionId;
  bool descending = false;
  // Seek (keyset) paging: when set, the list starts right after this key (the sort_key() of the
  // previous page's last row) and `offset` counts from there. A page after a key costs the same
  // at any depth; an offset costs a walk of an index over the rows it skips (see Project::page).
  std::optional<SortKey> after;
  int64_t offset = 0;
  int64_t limit = 100;
  // Whether page() also counts every pair matching the filter into Page::total. Counts by decision
  // and source (with a score sort too) come from counters kept current; with a split, text or
  // score range they walk every match, so a GUI turns this off and calls Project::count() once
  // per filter, off its thread.
  bool with_total = true;
};

struct Page {
  std::vector<PairRow> rows;
  int64_t total = 0;  // pairs matching the filter, over all pages; -1 when !with_total
};

struct DecisionCounts {
  int64_t undecided = 0;
  int64_t keep = 0;
  int64_t drop = 0;
};

// ITM scores of one caption source in `bins` equal bins over [0, 1]; a score of 1 falls in the last.
struct ScoreHistogram {
  CaptionSource source = CaptionSource::kWeb;
  std::vector<int64_t> counts;
};

// What one CapFilt batch writes (Project::store_capfilt_batch): the captioner's new synthetic
// captions, the filter's scores of every caption of the batch's images, and the automatic
// decisions those scores propose.
struct CapfiltCaptionScore {
  int64_t caption_id = 0;  // an existing caption; 0 = the synthetic caption `synthetic_index`
  int synthetic_index = -1;
  double itm = 0;
  double itc = 0;
  // The existing caption's source and text: what a results file (db/capfilt_results.h) names it
  // by, since ids differ between copies of a project. Unused by Project::store_capfilt_batch.
  CaptionSource source = CaptionSource::kWeb;
  std::string text;
};

struct CapfiltImageResult {
  int64_t image_id = 0;
  std::string path;  // as stored in the project; what a results file names the image by
  std::vector<std::string> synthetic;       // new captions by the captioner (duplicates skipped)
  std::vector<CapfiltCaptionScore> scores;  // web, human and synthetic captions of the image
};

struct CapfiltBatch {
  int64_t captioner_id = 0;  // model of the synthetic captions
  int64_t filter_id = 0;     // model of the scores
  double threshold = 0.5;    // ITM below it proposes drop, else keep
  std::vector<CapfiltImageResult> images;
};

struct CapfiltBatchCounts {
  int64_t captions_added = 0;
  int64_t scores_written = 0;
  int64_t decisions_written = 0;  // automatic decisions appended to the log
  int64_t kept_by_curator = 0;    // captions left alone because a curator decided them
};

enum class JobStatus { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
const char* to_string(JobStatus status);
bool parse(const std::string& name, JobStatus* out);

struct JobRecord {
  int64_t id = 0;         // assigned by the store
  std::string kind;       // "train", "caption", "filter", "import", ...
  std::string args_json;  // the job's arguments, as JSON text
  JobStatus status = JobStatus::kQueued;
  int64_t pid = 0;        // process running it; 0 = none
  double progress = 0;    // [0, 1]
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::string error;
  std::string log_path;
};

struct JobMetric {
  int64_t step = 0;
  std::string name;  // "loss_itc", "lr", ...
  double value = 0;
};

}  // namespace capfilt::db
