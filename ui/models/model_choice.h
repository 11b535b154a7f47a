#pragma once
// Which of the project's models is its captioner and which its filter: the choice the Models
// panel stores in the project's settings (db::kCaptionerSetting / kFilterSetting), else the
// newest model of that task. The CapFilt form and the studio's caption scorer use it.

#include <QtGlobal>

#include <optional>
#include <vector>

#include "db/project.h"

namespace capfilt::ui {

// The chosen model's id; the newest model with `task` when none was chosen (or the chosen one is
// gone); 0 when there is none.
qint64 chosen_model(db::Project& project, const char* setting_key, const char* task);
inline qint64 chosen_captioner(db::Project& p) {
  return chosen_model(p, db::kCaptionerSetting, "captioner");
}
inline qint64 chosen_filter(db::Project& p) { return chosen_model(p, db::kFilterSetting, "filter"); }

// The models row with `id` in `models`, or nullptr.
const db::ModelRecord* model_with_id(const std::vector<db::ModelRecord>& models, qint64 id);

}  // namespace capfilt::ui
