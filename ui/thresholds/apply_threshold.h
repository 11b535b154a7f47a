#pragma once
// Writes a threshold's automatic decisions: every scored web and synthetic caption below the
// threshold dropped, the others kept, in one transaction. A caption whose decision in force is a
// curator's is never touched, nor one already decided that way.
//
// The studio applies it through ApplyThresholdCommand, whose undo takes these rows back.

#include <cstdint>
#include <string>

#include "db/project.h"

namespace capfilt::ui {

struct AppliedThreshold {
  int64_t dropped = 0;
  int64_t kept = 0;
  int64_t curator_protected = 0;  // left alone: a curator decided them
};

// `rule` is logged as the decisions' author (e.g. "itm<0.42 (studio)").
Result<AppliedThreshold> apply_threshold(db::Project& project, double threshold,
                                         const std::string& rule);

}  // namespace capfilt::ui
