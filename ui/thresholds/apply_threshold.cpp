#include "ui/thresholds/apply_threshold.h"

#include <unordered_set>

namespace capfilt::ui {

Result<AppliedThreshold> apply_threshold(db::Project& project, double threshold,
                                         const std::string& rule) {
  auto log = project.decision_log();
  if (!log) return log.status();
  std::unordered_map<int64_t, db::DecisionOrigin> in_force;
  for (const auto& e : *log) {
    if (e.undone_ms == 0) in_force[e.caption_id] = e.origin;
  }
  AppliedThreshold applied;
  std::vector<db::DecisionInput> decisions;
  db::PairFilter filter;
  filter.sources = {db::CaptionSource::kWeb, db::CaptionSource::kSynthetic};
  filter.itm_min = -1.0;  // scored ones
  Status walked = project.for_each_pair(filter, [&](const db::PairRow& row) {
    auto it = in_force.find(row.caption_id);
    if (it != in_force.end() && it->second == db::DecisionOrigin::kCurator) {
      ++applied.curator_protected;
      return Status::ok();
    }
    const db::Decision wanted = *row.itm < threshold ? db::Decision::kDrop : db::Decision::kKeep;
    if (row.decision == wanted) return Status::ok();
    decisions.push_back({row.caption_id, wanted, db::DecisionOrigin::kAuto, rule,
                         "studio threshold"});
    ++(wanted == db::Decision::kDrop ? applied.dropped : applied.kept);
    return Status::ok();
  });
  if (!walked) return walked;
  if (Status s = project.decide(decisions); !s) return s;
  return applied;
}

}  // namespace capfilt::ui
