#pragma once
// The per-task part of a training job: how a batch of decoded images and texts becomes tensors and
// which model/ step trains on it (pre-training and its subsets, or VQA). Internal to core/torch/.

#include <memory>
#include <string>
#include <vector>

#include "core/train_data.h"
#include "core/training_job.h"
#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/pretrain.h"
#include "model/tokenizer.h"

namespace capfilt::core {

struct TaskSettings {
  model::OptimizerConfig optimizer;
  uint64_t seed = 0;
  int64_t max_text_length = 30;  // caption tokens (the captioner's prompt comes on top)
  std::string prompt;            // captioner only
  int64_t prompt_length = 1;     // [DEC] + prompt tokens left out of the LM loss
  model::Communicator* comm = nullptr;  // data-parallel training (not owned); pretrain and subsets
  double min_temperature = 0.001;  // ITC: the learnt temperature's floor (BLIP's 0.001)
  bool text_negatives = false;  // ITM: one rewritten caption per image as an extra negative
};

// The losses a task trains (VQA: lm, its answer loss).
const model::LossTerms& task_terms(TrainTask task);
TaskSettings task_settings(const TrainJobConfig& config, int64_t total_steps,
                           const model::Tokenizer& tokenizer);
// A loaded model made fit for the task: a VQA decoder of its own; another queue length.
model::Blip adapt_model_for_task(const model::Blip& model, TrainTask task, int64_t queue_size);

class TaskTrainer {
 public:
  virtual ~TaskTrainer() = default;
  // One optimiser step on a batch: items[i] is the pair whose image pixels[i] holds (3 x s x s).
  virtual model::StepResult step(const std::vector<TrainPair>& items,
                                 const std::vector<const std::vector<float>*>& pixels,
                                 int image_size, const model::Tokenizer& tokenizer) = 0;
  virtual model::NamedTensors state() const = 0;
  virtual void load_state(const model::NamedTensors& state, const std::string& source) = 0;
  virtual const model::Blip& model() const = 0;
};

std::unique_ptr<TaskTrainer> make_task_trainer(TrainTask task, const model::Blip& model,
                                               const TaskSettings& settings);

}  // namespace capfilt::core
