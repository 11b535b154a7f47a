#pragma once
// BLIP pre-training: per batch one ViT forward and three MED forwards (unimodal encoder for ITC,
// image-grounded encoder for ITM, decoder for LM), the three losses summed, then backward, gradient
// clipping, an AdamW step and the momentum-encoder update. Follows salesforce/BLIP
// blip_pretrain.py, with blip_retrieval.py's image ids so that captions of the same image (in the
// batch or in the queue) are positives for ITC and never hard negatives for ITM.
// Model-internal header (includes Torch).
//
// A Pretrainer owns the per-run state (momentum encoders, feature queue, optimiser, random
// generator) and trains the Blip it was given in place. Not thread-safe: one thread drives it.

#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/distributed.h"
#include "model/momentum.h"
#include "model/optimizer.h"

namespace capfilt::model {

struct PretrainBatch {
  torch::Tensor pixels;      // [B, 3, H, W] normalised
  torch::Tensor ids;         // [B, L] int64 tokenizer output: [CLS] caption [SEP] [PAD]...
  torch::Tensor mask;        // [B, L] 1 = token, 0 = padding
  torch::Tensor image_ids;   // [B] int64; equal ids mark captions of the same image
  // Leading decoder tokens left out of the LM loss: [DEC] plus a prompt such as "a picture of"
  // (BLIP's prompt_length). 1 = only [DEC].
  int64_t prompt_length = 1;
  // Optional, ITM only: [B, L] (any length: padded to ids' or ids padded to it) a text that does
  // not describe image i, for one more negative pair per image beside BLIP's two hard negatives
  // (undefined: BLIP's ITM exactly).
  torch::Tensor negative_ids;
  torch::Tensor negative_mask;
};

// Which losses a step optimises. Pre-training uses all three; BLIP's fine-tuning steps are
// subsets: the captioner {lm} (blip_decoder), the filter {itc, itm} (blip_retrieval: momentum
// encoders, queue and hard negatives as in pre-training).
struct LossTerms {
  bool itc = true;
  bool itm = true;
  bool lm = true;
};

struct PretrainOptions {
  OptimizerConfig optimizer;
  uint64_t seed = 0;  // hard-negative draws and the queue's initial contents
  LossTerms terms;
  // Lowest ITC temperature: BLIP clamps the learnt temperature to [0.001, 0.5]. A small model
  // trained from scratch at a high learning rate drives it to the floor within a few hundred steps,
  // before its features mean anything; a higher floor keeps ITC and its hard negatives learning.
  double min_temperature = 0.001;
  // Data-parallel training (not owned; outlives the Pretrainer; null = one process). Each rank
  // steps on its share of the global batch (all ranks the same size); the model starts from rank
  // 0's weights, the ITC columns and the queue hold the momentum features of the global batch, ITM
  // hard negatives are drawn over the global batch (the same draw on every rank, from the shared
  // generator), the LM loss is averaged over the global batch's tokens and the gradients over the
  // ranks. The result equals one process stepping on the whole global batch.
  Communicator* comm = nullptr;
};

struct LossValues {
  double itc = 0.0;
  double itm = 0.0;
  double lm = 0.0;
  double total() const { return itc + itm + lm; }
};

struct StepResult {
  LossValues losses;
  double learning_rate = 0.0;  // used by this step
  double grad_norm = 0.0;      // before clipping
  double temperature = 0.0;    // ITC temperature after the step
  double comm_seconds = 0.0;   // spent in collectives (0 for one process)
};

class Pretrainer {
 public:
  // `model` needs the components of the enabled terms (ITC: vision, text encoder, projections;
  // ITM: those and the ITM head; LM: vision and the decoder). With ITC, the momentum encoders start
  // as copies of its image encoder, text encoder and projections. Throws ModelError when a
  // component is missing or no term is enabled.
  Pretrainer(Blip model, const PretrainOptions& options);
  Pretrainer(const Pretrainer&) = delete;
  Pretrainer& operator=(const Pretrainer&) = delete;

  struct Losses {
    torch::Tensor itc, itm, lm;  // scalars, with graph; undefined for a disabled term
  };
  // Forward pass of one batch: clamps the temperature to [0.001, 0.5], computes the momentum
  // features and the three losses, then pushes the momentum features into the queue.
  // The (global) batch needs at least two distinct image ids (ITM needs a negative).
  // With a communicator each loss is this rank's share: their mean over ranks is the global loss.
  Losses forward(const PretrainBatch& batch);

  // forward, backward of the enabled terms' sum, clipping, AdamW step, momentum update.
  StepResult step(const PretrainBatch& batch);

  // Everything besides the model's weights that an exact resume needs: the momentum encoders
  // ("momentum.*"), the queue ("queue.*"), the hard-negative generator ("generator") and the
  // optimiser ("optimizer.*"). CPU tensors.
  NamedTensors training_state() const;
  // Restores training_state(). Throws ModelError naming `source` and the tensor when one is
  // missing or misshapen (a state written for another config); nothing is half-restored for
  // the momentum model or the queue, whose tensors are checked before any is copied.
  void load_training_state(const NamedTensors& state, const std::string& source);

  const LossTerms& terms() const { return terms_; }
  const Blip& model() const { return model_; }
  Communicator* communicator() const { return comm_; }
  // Only with ITC (null otherwise).
  const Blip& momentum_model() const { return momentum_; }
  const FeatureQueue& queue() const { return queue_; }
  const ParameterPairs& momentum_pairs() const { return pairs_; }
  TrainingOptimizer& optimizer() { return *optimizer_; }
  int64_t steps_taken() const { return optimizer_->steps_taken(); }

 private:
  torch::Tensor share_of_global_token_mean(const torch::Tensor& local_mean,
                                           const torch::Tensor& hidden, const torch::Tensor& labels);

  Blip model_;
  LossTerms terms_;
  double min_temperature_ = 0.001;
  Blip momentum_;
  ParameterPairs pairs_;
  FeatureQueue queue_;
  std::unique_ptr<TrainingOptimizer> optimizer_;
  at::Generator generator_;
  torch::Device device_;
  Communicator* comm_;
};

// The momentum model's config: `config` with only the image encoder, text encoder and projections.
BlipConfig momentum_config(const BlipConfig& config);

}  // namespace capfilt::model
