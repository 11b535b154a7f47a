#pragma once
// CapFilt over a project: the captioner writes synthetic captions for every image in scope, the
// filter scores every web and synthetic caption of those images (ITM probability, ITC similarity),
// and captions whose ITM falls below the threshold are proposed for dropping (automatic decisions,
// never over a curator's; human captions are never dropped automatically).
//
// Incremental and resumable: work is stored per batch of images in one transaction
// (db::Project::store_capfilt_batch), and an image whose synthetic captions and scores by these
// models are already stored is skipped, so a run killed at any point (SIGKILL included) and started
// again continues where it stopped, with nothing duplicated and nothing committed lost.
// A shard I/N takes the images whose id ≡ I (mod N), so N processes can split one project.
//
// Torch-free: the models come in as BlipEngines. Images are decoded and preprocessed on the
// BatchLoader's worker threads while the model runs. Runs on the calling thread.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/blip_engine.h"
#include "db/project.h"

namespace capfilt::core {

struct CapfiltRunOptions {
  CaptionOptions caption = capfilt_caption_defaults();
  double threshold = 0.5;   // ITM match probability below which a caption is proposed `drop`
  std::string split;        // only this split; empty = all images
  int shard_index = 0;      // this process takes images with id % shard_count == shard_index
  int shard_count = 1;
  int batch_images = 8;     // images per model batch and per transaction
  int loader_workers = 2;   // decoding threads
  int64_t max_images = 0;   // stop after this many processed images (benchmarks); 0 = all
  int64_t job_id = 0;       // job row to keep current (progress, status, metrics); 0 = none
  // Not owned. When set, the batches go to this results file instead of the project, which is then
  // only read (a copy, maybe opened read-only): images the file holds already are skipped, and the
  // file is marked finished when the run covered its whole scope (not stopped, no max_images
  // left images out). See db/capfilt_results.h.
  db::CapfiltResultsFile* results = nullptr;
};

// The two models with their ids in the project's models table. The same engine may be both.
// A run into a results file may name a model the project does not register by id -1.
struct CapfiltModels {
  const BlipEngine* captioner = nullptr;
  int64_t captioner_id = 0;
  const BlipEngine* filter = nullptr;
  int64_t filter_id = 0;
};

struct CapfiltProgress {
  int64_t images_done = 0;   // processed or failed in this run
  int64_t images_total = 0;  // to process in this run (in scope, not done before)
  int64_t images_failed = 0;
  double seconds = 0;
};

struct CapfiltCallbacks {
  // Once the work is known, before the first batch: images to process in this run.
  std::function<void(int64_t images_total)> started;     // may be empty
  std::function<void(const CapfiltProgress&)> progress;  // after every batch; may be empty
  std::function<bool()> cancelled;  // checked between batches; may be empty
};

struct CapfiltFailure {
  std::string image;  // path as stored in the project
  std::string why;
};

// Shares over the scope, from the store: what the filter says about all scored captions.
struct CapfiltOutcome {
  int64_t web_scored = 0, web_below = 0;              // web captions; below the threshold
  int64_t synthetic_scored = 0, synthetic_below = 0;  // the captioner's captions
  double web_drop_share() const { return web_scored ? double(web_below) / web_scored : 0; }
  // The paper's "noise ratio" of synthetic captions: the share the filter rejects.
  double synthetic_noise_ratio() const {
    return synthetic_scored ? double(synthetic_below) / synthetic_scored : 0;
  }
};

struct CapfiltReport {
  int64_t images_in_scope = 0;
  int64_t images_already_done = 0;
  int64_t images_processed = 0;
  std::vector<CapfiltFailure> failures;
  db::CapfiltBatchCounts counts;
  CapfiltOutcome outcome;
  bool cancelled = false;
  double seconds = 0;
  // Where the time went (seconds): waiting for decoded images, image encoder, decoder, filter
  // (ITM/ITC), store.
  double wait_seconds = 0, encode_seconds = 0, caption_seconds = 0, score_seconds = 0,
         store_seconds = 0;
};

// "I/N" with 0 <= I < N. kInvalid naming the spec otherwise.
Status parse_shard(const std::string& spec, int* index, int* count);
// kInvalid for options that cannot work (threshold outside [0, 1], bad shard, batch < 1) and for
// models that cannot do their part (a captioner without a decoder, a filter without an ITM head).
Status validate(const CapfiltRunOptions& options, const CapfiltModels& models);
// The options alone (checked before any model is loaded).
Status validate(const CapfiltRunOptions& options);

// Runs CapFilt. Returns the report also when cancelled (report.cancelled) or when images failed
// (report.failures); an error Status only for what stops the run (the store, the models).
Result<CapfiltReport> run_capfilt(db::Project& project, const CapfiltModels& models,
                                  const CapfiltRunOptions& options,
                                  const CapfiltCallbacks& callbacks = {});

// What the filter says about the captions of the scope (split/shard of `options`).
Result<CapfiltOutcome> capfilt_outcome(db::Project& project, const CapfiltModels& models,
                                       const CapfiltRunOptions& options);

}  // namespace capfilt::core
