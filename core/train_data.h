#pragma once
// The pairs a training job reads: selected from a project as a curator says it, or read from
// annotation files. Only paths and texts are held (a few dozen bytes per pair); images are decoded
// batch by batch by the BatchLoader. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "core/training_job.h"
#include "db/status.h"

namespace capfilt::core {

struct TrainPair {
  std::string path;   // image file
  std::string text;   // caption, or the question for vqa
  int64_t image_key = 0;  // equal for pairs of the same image (ITC positives, never ITM negatives)
  std::vector<std::string> answers;  // vqa only
};

// The selection's pairs, in a stable order (project: image path then caption id; files: as read).
// kInvalid naming the file and entry for a malformed annotation file; kNotFound for a missing one;
// kInvalid when the selection needs a project and there is none.
Result<std::vector<TrainPair>> select_training_pairs(const TrainDataSelection& selection,
                                                     TrainTask task, db::Project* project);

}  // namespace capfilt::core
