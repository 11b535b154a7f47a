#pragma once
// Training checkpoints of a job folder (see core/training_job.h for the layout): written to a
// temporary folder, fsynced, renamed into place; the newest K kept. Internal to core/torch/.

#include <cstdint>
#include <string>

#include "model/blip.h"
#include "model/checkpoint.h"

namespace capfilt::core::internal {

struct CheckpointPosition {
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t position = 0;     // samples of the epoch's order already consumed
  std::string config_json;  // the job config the checkpoint was written with
  int64_t pairs = 0;           // size of the selection
  std::string data_fingerprint;  // hash of the selection's pairs, in order
};

// Writes checkpoints/step-NNNNNNNN atomically and prunes to `keep`. Returns the folder. Throws
// ModelError (naming the folder) when a write fails; the temporary folder is removed then and
// earlier checkpoints are untouched.
std::string write_training_checkpoint(const std::string& job_dir, const model::Blip& model,
                                      const model::NamedTensors& training_state,
                                      const CheckpointPosition& position, int64_t keep);

// Saves a model as a checkpoint folder at `folder`, atomically (temporary sibling + rename).
void write_model_atomically(const model::Blip& model, const std::string& folder);

// Reads state.json of a checkpoint folder. Throws ModelError naming the file.
CheckpointPosition read_checkpoint_position(const std::string& checkpoint);

// fsyncs a file or folder; throws ModelError naming it.
void sync_path(const std::string& path);

}  // namespace capfilt::core::internal
