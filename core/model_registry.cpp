#include "core/model_registry.h"

#include <filesystem>

namespace capfilt::core {
namespace fs = std::filesystem;

Result<int64_t> register_model(db::Project& project, const ModelInfo& info, const std::string& task,
                               int64_t parent_id) {
  return project.find_or_add_model(model_record(info, task, parent_id));
}

Result<int64_t> find_registered_model(db::Project& project, const db::ModelRecord& record) {
  auto models = project.models();
  if (!models) return models.status();
  for (const auto& m : models.value()) {  // ordered by id: the first, as find_or_add_model finds
    if (m.checkpoint_path == record.checkpoint_path) return m.id;
  }
  return int64_t{0};
}

db::ModelRecord model_record(const ModelInfo& info, const std::string& task, int64_t parent_id) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(info.path), ec);
  const std::string path = ec ? fs::absolute(info.path).lexically_normal().string()
                              : canonical.string();
  db::ModelRecord record;
  record.name = fs::path(path).filename().string();
  record.checkpoint_path = path;
  record.config_json = info.config_json.empty() ? "{}" : info.config_json;
  record.task = task;
  record.parent_id = parent_id;
  return record;
}

}  // namespace capfilt::core
