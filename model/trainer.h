#pragma once
// A training loop over in-memory image-caption pairs: shuffled batches (the last partial batch of
// an epoch dropped, as BLIP's loader does), tokenised on the fly, one Pretrainer step each, with a
// progress callback after every step and a cancellation check before every batch (STYLE item 10).
// Model-internal header (includes Torch).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/pretrain.h"
#include "model/synthetic_data.h"
#include "model/tokenizer.h"

namespace capfilt::model {

struct TrainLoopOptions {
  int64_t steps = 100;
  int64_t batch_size = 8;       // capped at the number of pairs
  int64_t max_text_length = 30;  // BLIP pre-training's max_length
  uint64_t seed = 0;             // batch order
};

struct TrainProgress {
  int64_t step = 0;         // 1-based, steps done so far
  int64_t total_steps = 0;
  int64_t batch_size = 0;
  StepResult result;
  double elapsed_seconds = 0.0;
  double pairs_per_second = 0.0;  // over the whole run so far
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_step;  // may be empty
  std::function<bool()> should_cancel;                // may be empty; true stops before a batch
};

struct TrainSummary {
  std::vector<StepResult> history;  // one per step done
  bool cancelled = false;
  double seconds = 0.0;
};

// Tokenises `captions[indices]` and gathers the matching pixels and image ids.
PretrainBatch make_batch(const ImageTextPairs& data, const std::vector<int64_t>& indices,
                         const Tokenizer& tokenizer, int64_t max_text_length);

// Runs options.steps steps of `trainer` over `data`. Throws ModelError when data has fewer than two
// distinct images (ITM needs a negative in every batch).
TrainSummary train(Pretrainer& trainer, const ImageTextPairs& data, const Tokenizer& tokenizer,
                   const TrainLoopOptions& options, const TrainCallbacks& callbacks = {});

// What a model has learned about `data`: its greedy caption of every image and the ITM match
// probability of every image with every caption ([image][caption]; the diagonal is the truth).
struct LearnedPairs {
  std::vector<std::string> greedy_captions;
  std::vector<std::vector<double>> itm;
  double matched_mean() const;     // mean of the diagonal
  double mismatched_mean() const;  // mean off the diagonal
};
LearnedPairs inspect_learned(const BlipImpl& model, const ImageTextPairs& data,
                             const Tokenizer& tokenizer, int64_t max_text_length = 30);

}  // namespace capfilt::model
