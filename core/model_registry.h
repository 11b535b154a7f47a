#pragma once
// The project's record of the models it used: a model folder used by a job or a CapFilt run is
// added to the project's models table once and referred to by its id everywhere after (synthetic
// captions' model_id, scores, automatic decisions).

#include <string>

#include "core/blip_engine.h"
#include "db/project.h"

namespace capfilt::core {

// The id of the model at info.path (compared as an absolute, normalised path), adding it with
// `task` ("captioner", "filter", …) and `parent_id` when the project does not know it yet.
Result<int64_t> register_model(db::Project& project, const ModelInfo& info, const std::string& task,
                               int64_t parent_id = 0);

// The record register_model would add for the model (absolute, normalised path; no id).
db::ModelRecord model_record(const ModelInfo& info, const std::string& task, int64_t parent_id = 0);
// The id of the registered model with that record's checkpoint path; 0 when the project does not
// know it. Only reads the project (which may be open read-only).
Result<int64_t> find_registered_model(db::Project& project, const db::ModelRecord& record);

}  // namespace capfilt::core
