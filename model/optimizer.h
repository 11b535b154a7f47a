#pragma once
// The pre-training optimiser: AdamW with decoupled weight decay, a learning rate that rises
// linearly during warm-up and then follows a half cosine down to a floor, and gradient-norm
// clipping. BLIP's released pretrain.py decays every parameter; like most ViT/BERT recipes this one
// by default spares biases, LayerNorm weights, the ITC temperature and the embeddings (word,
// position, [CLS]), which `decay_everything` turns back on. Model-internal header (includes Torch).

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace capfilt::model {

struct OptimizerConfig {
  double peak_lr = 3e-4;        // BLIP ViT-B pre-training init_lr
  double warmup_start_lr = 1e-6;
  double min_lr = 1e-6;         // the cosine's floor, reached at total_steps
  int64_t warmup_steps = 3000;
  int64_t total_steps = 100000;
  double weight_decay = 0.05;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double clip_norm = 1.0;       // <= 0: no clipping
  bool decay_everything = false;
};

// Learning rate for optimiser step `step` (0-based): warmup_start_lr + (peak - start) * step / warmup
// while step < warmup_steps, then min + (peak - min) * (1 + cos(pi * t)) / 2 with
// t = (step - warmup) / (total - warmup) clamped to [0, 1]. Equal to peak_lr at step == warmup_steps
// and to min_lr from total_steps on.
double learning_rate_at(const OptimizerConfig& config, int64_t step);

// Whether a parameter named `name` (a path of named_parameters()) gets weight decay.
bool uses_weight_decay(const std::string& name, const torch::Tensor& parameter,
                       const OptimizerConfig& config);

// AdamW over the given parameters in two groups (decay / no decay) with the schedule applied.
// Not copyable; belongs to one training run.
class TrainingOptimizer {
 public:
  TrainingOptimizer(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters,
                    const OptimizerConfig& config);
  TrainingOptimizer(const TrainingOptimizer&) = delete;
  TrainingOptimizer& operator=(const TrainingOptimizer&) = delete;

  void zero_grad();
  // Clips the gradients' total norm, sets the learning rate for the current step, updates the
  // parameters and advances the step. Returns the total gradient norm before clipping.
  double step();

  int64_t steps_taken() const { return step_; }

  // The AdamW moments of every parameter that has them ("<index>.exp_avg", "<index>.exp_avg_sq",
  // "<index>.step", index = position in the parameter list given to the constructor) and the
  // schedule's step ("schedule_step"). CPU copies.
  std::map<std::string, torch::Tensor> state_tensors() const;
  // Restores state_tensors(). Throws ModelError naming `source` when the schedule step is missing,
  // an index lies outside the parameters or a moment's shape differs from its parameter.
  void load_state_tensors(const std::map<std::string, torch::Tensor>& state,
                          const std::string& source);
  double current_lr() const { return learning_rate_at(config_, step_); }
  const OptimizerConfig& config() const { return config_; }
  // Parameter counts of the two groups (for logs and tests).
  int64_t decayed_tensors() const { return decayed_; }
  int64_t undecayed_tensors() const { return undecayed_; }

 private:
  OptimizerConfig config_;
  std::vector<torch::Tensor> all_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  int64_t step_ = 0;
  int64_t decayed_ = 0;
  int64_t undecayed_ = 0;
};

// named_parameters() of a module as (name, tensor) pairs, only those that require grad.
std::vector<std::pair<std::string, torch::Tensor>> trainable_parameters(
    const torch::nn::Module& module);

}  // namespace capfilt::model
