#pragma once
// The pairs a training job reads: selected from a project as a curator says it, or read from
// annotation files. Only paths and texts are held, packed (core/train_pairs.h); images are decoded
// batch by batch by the BatchLoader. Torch-free.

#include "core/train_pairs.h"
#include "core/training_job.h"
#include "db/status.h"

namespace capfilt::core {

// The selection's pairs, in a stable order (project: image path then caption id; files: as read).
// kInvalid naming the file and entry for a malformed annotation file; kNotFound for a missing one;
// kInvalid when the selection needs a project and there is none.
// Pairs of one image path share its key, in a file or across files.
Result<TrainPairs> select_training_pairs(const TrainDataSelection& selection,
                                         TrainTask task, db::Project* project);

}  // namespace capfilt::core
