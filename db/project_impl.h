#pragma once
// Internal to db/: what a Project holds, shared by the files that implement its methods.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "db/clock.h"
#include "db/project.h"
#include "db/sqlite.h"

namespace capfilt::db {

namespace internal {

// The caption ids matching the last full-text query, in the connection's temporary table
// capfilt_match (id INTEGER PRIMARY KEY): pages of one search at any depth check each row against
// it instead of re-running the FTS5 query. Captions are only ever added (their text never
// changes), so ids above `upto` are all the cache can miss.
struct MatchCache {
  bool table_created = false;
  std::string query;  // empty: nothing cached
  int64_t upto = 0;   // the largest caption id the cached matches cover
  int64_t size = 0;   // rows in capfilt_match
};

// Counts of filters already made, valid while the database stays as it was: no commit by another
// connection (PRAGMA data_version) and no change by this one (sqlite3_total_changes64). A GUI's
// pages of one filter then share one count.
struct CountCache {
  int64_t data_version = -1;
  int64_t changes = -1;
  std::map<std::string, int64_t> counts;  // by a text form of the filter, sort class and model
};

// Positions found by jumps (deep offsets) into the list last jumped into (filter, order, model),
// valid like CountCache: a later jump walks from the nearest one below it instead of the start.
struct PositionCache {
  static constexpr int64_t kDeep = 2048;         // offsets from here on use and make anchors
  static constexpr size_t kMaxAnchors = 100000;  // then they start over
  int64_t data_version = -1;
  int64_t changes = -1;
  std::string list;                       // empty: nothing kept
  std::map<int64_t, SortKey> anchors;     // position -> the key of the row there
};

}  // namespace internal

class Project::Impl {
 public:
  Impl(std::unique_ptr<internal::Connection> connection, const Clock* clock)
      : connection(std::move(connection)), clock(clock != nullptr ? clock : &system_clock) {}

  std::unique_ptr<internal::Connection> connection;
  SystemClock system_clock;  // used when no clock was passed in
  const Clock* clock;
  internal::MatchCache matches;
  internal::CountCache counts;
  internal::PositionCache positions;
};

namespace internal {

// The model that score filters refer to: `requested`, or when 0 the newest model with scores
// (0 when there is none).
Result<int64_t> resolve_score_model(Connection& connection, int64_t requested);

// Stores or replaces one score (inside the caller's write transaction), keeping the counters
// current. kNotFound naming `project_path` when the caption or model does not exist.
Status upsert_score(Connection& connection, const Score& score, const std::string& project_path);

// Appends decisions to the log and makes each its caption's current one (inside the caller's
// write transaction).
Status append_decisions(Connection& connection, const std::vector<DecisionInput>& decisions,
                        int64_t now_ms);

// Stores the batch as Project::store_capfilt_batch describes (inside the caller's write
// transaction), adding what it wrote to `counts`.
Status store_capfilt_images(Connection& connection, const CapfiltBatch& batch, int64_t now_ms,
                            const std::string& project_path, CapfiltBatchCounts& counts);

// Recomputes a caption's current decision from its log (the latest entry not undone).
Status refresh_current_decision(Connection& connection, int64_t caption_id);

}  // namespace internal
}  // namespace capfilt::db
