#pragma once
// Training jobs on a project's pairs or an annotation file: BLIP pre-training and the fine-tuning
// of its captioner, filter and VQA model, with checkpoints, exact resume and a progress stream.
// Torch-free (implemented in core/torch/training_job.cpp), so app/ and the studio include it.
//
// A job lives in its own folder:
//   config.json              the TrainJobConfig (flags already applied)
//   job.json                 {"job_id": N, "project": "..."} when the job has a project row
//   progress.jsonl           the JSON-lines progress stream (core/job_progress.h), appended
//   checkpoints/step-NNNNNNNN/  config.json + model.safetensors (a capfilt checkpoint folder that
//                            load_model and BlipEngine read), training_state.safetensors
//                            (optimiser, momentum encoders, queue, generators) and state.json
//                            (step, data position, the job config it was written with)
//   model/                   the trained model when the job finishes
// Checkpoints are written to a temporary folder, fsynced and renamed, so a crash or a full disk
// leaves the previous checkpoint valid; the newest keep_checkpoints are kept.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/distributed_env.h"
#include "core/job_progress.h"
#include "core/stop_signal.h"
#include "db/status.h"

namespace capfilt::db {
class Project;
}

namespace capfilt::core {

enum class TrainTask { kPretrain, kCaptioner, kFilter, kVqa };
const char* to_string(TrainTask task);
bool parse(const std::string& name, TrainTask* out);  // "pretrain", "captioner", "filter", "vqa"

// Which pairs a job trains on: the project's pairs as a curator selects them, or annotation files.
struct TrainDataSelection {
  // Annotation files (BLIP JSON: [{"image", "caption": text or [texts]}]; for vqa the
  // vqa_*.json layout [{"image", "question", "answer": [..]}]). Image paths are relative to
  // image_root, or to the file's folder when image_root is empty. Non-empty: the project's pairs
  // are not used.
  std::vector<std::string> annotation_files;
  std::string image_root;
  // Project selection (when annotation_files is empty). Empty lists mean any.
  std::string split;                 // "train", "val", "test" or empty
  std::vector<std::string> sources;  // "web", "synthetic", "human"
  std::vector<std::string> decisions;  // "keep", "drop", "undecided"
  int64_t score_model_id = 0;        // scores of this model; 0 = latest scored
  std::optional<double> itm_min, itm_max;
  std::optional<double> itc_min, itc_max;
};

struct TrainJobConfig {
  TrainTask task = TrainTask::kPretrain;
  // The model: a preset ("tiny", "base", "large") trained from scratch, or `init` (a capfilt
  // checkpoint folder, a Hugging Face folder or a .pth) to continue from.
  std::string preset = "tiny";
  int64_t image_size = 0;   // 0: the preset's / checkpoint's
  int64_t patch_size = 0;   // 0: the preset's / checkpoint's (the ViT's patch side, pixels)
  int64_t queue_size = 0;   // 0: the preset's / checkpoint's (ITC queue length)
  std::string init;
  int64_t parent_model_id = 0;  // the project's model `init` is; 0 = look it up by path
  std::string vocab;            // vocab.txt; empty = the shipped bert-base-uncased
  TrainDataSelection data;
  // Length: steps, or epochs over the selection when steps is 0.
  int64_t steps = 0;
  int64_t epochs = 0;
  int64_t batch_size = 8;
  double lr = 1e-4;
  double min_lr = 0.0;       // the cosine's floor
  double warmup_lr = 1e-6;   // where the warm-up starts
  int64_t warmup_steps = 0;
  double weight_decay = 0.05;
  std::string schedule = "cosine";  // "cosine" or "constant"
  double clip_norm = 1.0;
  uint64_t seed = 0;
  int64_t max_text_length = 0;  // tokens; 0 = 35 for pretrain, 30 otherwise (+ the prompt)
  std::string prompt = "a picture of ";  // captioner: left out of the loss
  int64_t checkpoint_every = 0;  // steps; 0 = only at the end and when stopped
  int64_t keep_checkpoints = 2;
  int workers = 2;    // image decoding threads
  int prefetch = 32;  // samples decoded ahead
  // Augmentation, BLIP's by default: a random resized crop of 50-100 % of the image area, then a
  // horizontal flip half of the time. Both change what a caption says is true when it names
  // positions ("on the left", "to the left of") or every object (a crop can cut one out): set
  // crop_min_scale to 1 (no crop) and horizontal_flip to false for such data.
  double crop_min_scale = 0.5;  // in (0, 1]; 1 = the whole image, resized
  bool horizontal_flip = true;
  // ITM (pretrain, filter): besides BLIP's two hard negatives, each image with a rewrite of its
  // caption (one word swapped for a word another caption has in its place, or another caption
  // appended: core/text_negatives.h), so the filter learns to reject a caption that is right but
  // for one attribute or padded with text the image does not show.
  bool text_negatives = false;
  // Floor of the learnt ITC temperature (pretrain and filter). BLIP's 0.001; 0.05 keeps a tiny
  // model trained from scratch from collapsing it before its features mean anything.
  double min_temperature = 0.001;
  std::string model_name;  // name of the row in the project's models; empty = "<task> job N"
};

// JSON text of a config (pretty) and back. Parsing is strict: an unknown key, a wrong type or an
// impossible value is kInvalid naming `source` and the field ("config.json: field
// 'data.split' ...").
std::string to_json(const TrainJobConfig& config);
Result<TrainJobConfig> train_config_from_json(const std::string& text, const std::string& source);
Result<TrainJobConfig> load_train_config(const std::string& path);
// Checks values (positive batch size, known task/preset/schedule, ...); kInvalid naming the field.
Status validate(const TrainJobConfig& config, const std::string& source);
// Applies `patch` (a JSON object with a subset of the keys, e.g. from command-line flags) to
// `config`, strictly as above.
Status apply_overrides(TrainJobConfig& config, const std::string& patch_json,
                       const std::string& source);

// What the job needs from its caller. Everything is optional except job_dir.
struct TrainJobContext {
  std::string job_dir;
  db::Project* project = nullptr;  // not owned; selection source and where rows/metrics go
  std::string default_vocab;       // used when config.vocab is empty
  std::string device = "cpu";
  bool resume = false;             // continue from the newest checkpoint in job_dir
  int64_t log_every = 1;           // progress events (and job_metrics rows) every N steps
  int64_t pid = 0;                 // recorded in the job row
  std::function<void(const ProgressEvent&)> on_event;  // every event; also written to progress.jsonl
  std::function<bool()> should_stop;  // checked after every step: true = checkpoint and stop
  std::function<int64_t()> now_ms;    // clock; empty = system clock
  // Data-parallel training (world_size > 1): this process is one rank of the job. batch_size is
  // the global batch (a multiple of world_size; each rank steps on batch_size / world_size pairs
  // of a disjoint shard of the seeded epoch order), so a checkpoint resumes with any number of
  // processes. Rank 0 alone writes config.json, progress.jsonl, checkpoints, the model and the
  // project's rows (give `project` to rank 0 only); every rank reads the checkpoint to resume, so
  // job_dir must be the same folder on every machine (a shared filesystem). should_stop on any
  // rank stops all of them after the same step. A rank that dies makes the others fail within
  // distributed.timeout_s; the job row is marked failed and the job resumes from its checkpoint.
  DistributedSetup distributed;
};

struct TrainJobResult {
  std::string status;  // "succeeded" or "cancelled" (stopped, checkpoint written)
  int64_t steps_done = 0;
  int64_t total_steps = 0;
  int64_t pairs = 0;          // in the selection
  std::string checkpoint;     // the newest checkpoint folder
  std::string model_path;     // job_dir/model when finished
  int64_t job_id = 0;         // the project's job row; 0 without a project
  int64_t model_id = 0;       // the project's models row of the trained model
  std::map<std::string, double> last_metrics;
  double seconds = 0;
  double data_wait_seconds = 0;  // time the step waited for decoded images
  double comm_seconds = 0;       // time in collectives (distributed training)
};

// Runs (or resumes) the job. Failures are a Status naming the file and the field or the problem
// (kInvalid for a bad config or a selection smaller than a batch, kNotFound for resume with
// nothing to resume, kIoError for a failed checkpoint write), also sent as a "finished"/"failed"
// event and recorded in the job row.
Result<TrainJobResult> run_training_job(const TrainJobConfig& config,
                                        const TrainJobContext& context);

// The newest complete checkpoint folder under job_dir/checkpoints, or "" when there is none.
std::string newest_checkpoint(const std::string& job_dir);

// Largest absolute difference between the tensors of two checkpoint folders' model.safetensors
// (and training_state.safetensors when `with_state`); kInvalid when their names or shapes differ.
Result<double> max_checkpoint_difference(const std::string& a, const std::string& b,
                                         bool with_state);

}  // namespace capfilt::core
