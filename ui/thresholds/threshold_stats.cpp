#include "ui/thresholds/threshold_stats.h"

#include <cmath>
#include <limits>
#include <map>

namespace capfilt::ui {

namespace {
Result<int64_t> count(db::Project& project, const db::PairFilter& filter) {
  db::PageRequest request;
  request.filter = filter;
  request.limit = 0;
  auto page = project.page(request);
  if (!page) return page.status();
  return page->total;
}
}  // namespace

Result<BelowCount> count_below(db::Project& project, db::CaptionSource source, double threshold) {
  db::PairFilter filter;
  filter.sources = {source};
  filter.itm_min = -1.0;  // scored ones only
  auto scored = count(project, filter);
  if (!scored) return scored.status();
  // The store's ranges are inclusive; "below" is the largest double under the threshold.
  filter.itm_max = std::nextafter(threshold, -std::numeric_limits<double>::infinity());
  auto below = count(project, filter);
  if (!below) return below.status();
  return BelowCount{*below, *scored};
}

Result<StateCounts> count_states(db::Project& project) {
  StateCounts out;
  const db::CaptionSource sources[] = {db::CaptionSource::kWeb, db::CaptionSource::kSynthetic,
                                       db::CaptionSource::kHuman};
  const db::Decision decisions[] = {db::Decision::kUndecided, db::Decision::kKeep,
                                    db::Decision::kDrop};
  for (int s = 0; s < 3; ++s) {
    for (int d = 0; d < 3; ++d) {
      db::PairFilter filter;
      filter.sources = {sources[s]};
      filter.decisions = {decisions[d]};
      auto n = count(project, filter);
      if (!n) return n.status();
      out.counts[s][d] = *n;
    }
  }
  return out;
}

Result<std::vector<ReviewedScore>> curator_reviewed_scores(db::Project& project) {
  auto log = project.decision_log();
  if (!log) return log.status();
  std::map<int64_t, const db::DecisionLogEntry*> latest;  // caption -> decision in force
  for (const auto& e : *log) {
    if (e.undone_ms == 0) latest[e.caption_id] = &e;
  }
  std::vector<ReviewedScore> out;
  for (const auto& [caption, entry] : latest) {
    if (entry->origin != db::DecisionOrigin::kCurator) continue;
    auto pair = project.pair(caption);
    if (!pair) return pair.status();
    if (!pair->itm) continue;
    out.push_back({*pair->itm, entry->decision == db::Decision::kKeep});
  }
  return out;
}

Agreement agreement_at(const std::vector<ReviewedScore>& reviewed, double threshold) {
  int64_t tp = 0, fp = 0, fn = 0, agree = 0;
  for (const auto& r : reviewed) {
    const bool kept = r.itm >= threshold;
    if (kept && r.keep) ++tp;
    if (kept && !r.keep) ++fp;
    if (!kept && r.keep) ++fn;
    if (kept == r.keep) ++agree;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Agreement a;
  a.reviewed = static_cast<int64_t>(reviewed.size());
  a.precision = tp + fp ? double(tp) / double(tp + fp) : nan;
  a.recall = tp + fn ? double(tp) / double(tp + fn) : nan;
  a.agreement = reviewed.empty() ? nan : double(agree) / double(reviewed.size());
  return a;
}

double best_agreeing_threshold(const std::vector<ReviewedScore>& reviewed) {
  if (reviewed.empty()) return -1;
  double best = 0, best_agreement = -1;
  for (int k = 0; k <= 100; ++k) {
    const double t = k / 100.0;
    const double a = agreement_at(reviewed, t).agreement;
    if (a > best_agreement) {
      best_agreement = a;
      best = t;
    }
  }
  return best;
}

}  // namespace capfilt::ui
