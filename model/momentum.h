#pragma once
// Momentum distillation state of BLIP pre-training (from ALBEF / MoCo): the momentum encoders'
// parameters follow the online ones as an exponential moving average, and a FIFO queue keeps the
// momentum features of earlier batches as extra ITC negatives (with their image ids, so a queued
// feature of the same image counts as a positive). Model-internal header (includes Torch).
//
// Neither type is thread-safe; both belong to one training run.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace capfilt::model {

// Online parameters and the momentum copies that follow them, index by index.
struct ParameterPairs {
  std::vector<std::string> names;
  std::vector<torch::Tensor> online;
  std::vector<torch::Tensor> momentum;
};

// Pairs every parameter of `momentum` with the parameter of the same name in `online`. Throws
// ModelError when `online` lacks one or its shape differs (the momentum model is a subset of the
// online one: BLIP's visual_encoder_m, text_encoder_m, vision_proj_m, text_proj_m).
// `skip` lists names of `momentum` that have no counterpart to follow (e.g. "temp").
ParameterPairs pair_parameters(const torch::nn::Module& online, const torch::nn::Module& momentum,
                               const std::vector<std::string>& skip = {});

// momentum[i] <- online[i] (the start of training), without recording gradients.
void copy_parameters(const ParameterPairs& pairs);

// momentum[i] <- m * momentum[i] + (1 - m) * online[i], in place, without recording gradients.
void ema_update(const ParameterPairs& pairs, double m);

// Queue of Q momentum features in BLIP's layout: columns are entries ([D, Q]), ids are [Q].
class FeatureQueue {
 public:
  // BLIP's start: random unit columns and ids of -100 (never anyone's positive).
  FeatureQueue(int64_t dim, int64_t size, const torch::Device& device = torch::kCPU,
               uint64_t seed = 0);

  // Writes the B rows of image_feat / text_feat ([B, D], detached) and ids [B] at the pointer,
  // wrapping around the end, and advances the pointer by B. B > Q keeps the last Q rows.
  void enqueue(const torch::Tensor& image_feat, const torch::Tensor& text_feat,
               const torch::Tensor& ids);

  const torch::Tensor& image_queue() const { return image_; }  // [D, Q]
  const torch::Tensor& text_queue() const { return text_; }    // [D, Q]
  const torch::Tensor& ids() const { return ids_; }            // [Q] int64
  int64_t size() const { return ids_.size(0); }
  int64_t pointer() const { return ptr_; }
  // Replaces the contents (an exact resume). Throws ModelError naming `source` when a shape
  // differs from this queue's or the pointer lies outside it; nothing is changed then.
  void restore(const torch::Tensor& image, const torch::Tensor& text, const torch::Tensor& ids,
               int64_t pointer, const std::string& source);

 private:
  torch::Tensor image_, text_, ids_;
  int64_t ptr_ = 0;
};

}  // namespace capfilt::model
