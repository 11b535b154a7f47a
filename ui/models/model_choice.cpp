#include "ui/models/model_choice.h"

#include <string>

namespace capfilt::ui {

const db::ModelRecord* model_with_id(const std::vector<db::ModelRecord>& models, qint64 id) {
  for (const auto& m : models)
    if (m.id == id) return &m;
  return nullptr;
}

qint64 chosen_model(db::Project& project, const char* setting_key, const char* task) {
  auto models = project.models();
  if (!models) return 0;
  if (auto value = project.setting(setting_key); value && !value->empty()) {
    try {
      const qint64 id = std::stoll(*value);
      if (model_with_id(*models, id)) return id;
    } catch (const std::exception&) {
      // not a number: fall back to the newest model of the task
    }
  }
  for (auto it = models->rbegin(); it != models->rend(); ++it)
    if (it->task == task) return it->id;
  return 0;
}

}  // namespace capfilt::ui
