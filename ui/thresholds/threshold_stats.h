#pragma once
// The numbers behind the threshold view, computed through db::Project (no SQL here): how many
// scored captions of a source fall below a threshold, counts per decision state and source, and
// how a threshold agrees with the curators' own decisions.

#include <cstdint>
#include <vector>

#include "db/project.h"

namespace capfilt::ui {

// Captions of `source` scored by the newest scoring model with ITM < threshold (what the threshold
// would drop), and all scored captions of that source.
struct BelowCount {
  int64_t below = 0;
  int64_t scored = 0;
};
Result<BelowCount> count_below(db::Project& project, db::CaptionSource source, double threshold);

// counts[source][decision], source and decision in enum order.
struct StateCounts {
  int64_t counts[3][3] = {};
};
Result<StateCounts> count_states(db::Project& project);

// A curator's decision in force on a scored caption.
struct ReviewedScore {
  double itm = 0;
  bool keep = false;
};
Result<std::vector<ReviewedScore>> curator_reviewed_scores(db::Project& project);

// Of the reviewed captions, keeping those with ITM >= threshold: precision and recall of "keep"
// against the curators, and the share on which both agree. NaN where undefined.
struct Agreement {
  double precision = 0;
  double recall = 0;
  double agreement = 0;
  int64_t reviewed = 0;
};
Agreement agreement_at(const std::vector<ReviewedScore>& reviewed, double threshold);
// The threshold (on a 0.01 grid) that agrees best with the curators; -1 when nothing is reviewed.
double best_agreeing_threshold(const std::vector<ReviewedScore>& reviewed);

}  // namespace capfilt::ui
