#pragma once
// Internal to db/: what a Project holds, shared by the files that implement its methods.

#include <memory>
#include <vector>

#include "db/clock.h"
#include "db/project.h"
#include "db/sqlite.h"

namespace capfilt::db {

class Project::Impl {
 public:
  Impl(std::unique_ptr<internal::Connection> connection, const Clock* clock)
      : connection(std::move(connection)), clock(clock != nullptr ? clock : &system_clock) {}

  std::unique_ptr<internal::Connection> connection;
  SystemClock system_clock;  // used when no clock was passed in
  const Clock* clock;
};

namespace internal {

// The model that score filters refer to: `requested`, or when 0 the newest model with scores
// (0 when there is none).
Result<int64_t> resolve_score_model(Connection& connection, int64_t requested);

// Appends decisions to the log and makes each its caption's current one (inside the caller's
// write transaction).
Status append_decisions(Connection& connection, const std::vector<DecisionInput>& decisions,
                        int64_t now_ms);

// Recomputes a caption's current decision from its log (the latest entry not undone).
Status refresh_current_decision(Connection& connection, int64_t caption_id);

}  // namespace internal
}  // namespace capfilt::db
