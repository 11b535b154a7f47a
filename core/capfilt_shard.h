#pragma once
// CapFilt across machines: a run over a copy of a project (one shard, on a machine that does not
// share the project file) writes a results file (db/capfilt_results.h) instead of the project;
// Project::merge_capfilt_results folds the files into the project later.
//
// Torch-free; the engines only give their identity (ModelInfo).

#include "core/capfilt_run.h"
#include "db/capfilt_results.h"

namespace capfilt::core {

// The header of a results file for a run of `models` (engines set) over `project` with `options`:
// the project's id, the models' identities, the threshold, the shard and the caption options.
// Sets models.captioner_id / filter_id to the project's ids, -1 for a model the project does not
// register (the merge registers it). Only reads the project.
Result<db::CapfiltResultsHeader> results_header(db::Project& project, CapfiltModels& models,
                                                const CapfiltRunOptions& options);

}  // namespace capfilt::core
