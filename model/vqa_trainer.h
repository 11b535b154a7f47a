#pragma once
// Fine-tuning of BLIP's VQA model (salesforce/BLIP blip_vqa.py, train mode): the image-grounded
// encoder reads the question ([ENC] first) with cross-attention to the image; the answer decoder
// ([DEC] first) cross-attends to the question states and is trained with the label-smoothed LM loss
// of each reference answer, weighted by how often annotators gave it, summed per question and
// averaged over the batch. Model-internal header (includes Torch).

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/optimizer.h"
#include "model/pretrain.h"

namespace capfilt::model {

struct VqaBatch {
  torch::Tensor pixels;          // [B, 3, H, W]
  torch::Tensor question_ids;    // [B, Lq] [CLS] question [SEP] [PAD]...
  torch::Tensor question_mask;   // [B, Lq]
  torch::Tensor answer_ids;      // [A, La] [CLS] answer [SEP] [PAD]... (first column -> [DEC])
  torch::Tensor answer_mask;     // [A, La]
  torch::Tensor answer_owner;    // [A] int64: the question each answer belongs to
  torch::Tensor answer_weight;   // [A] float: share of the question's annotators
};

// A model whose decoder owns all its weights (SharingMode::kSeparate), as BLIP's VQA model does.
// `source` has any sharing: tensors of the new decoder missing in `source` are taken from the
// encoder tensors the source decoder shared (text_decoder.bert.X <- text_encoder.X). Throws
// ModelError when a tensor is found nowhere or its shape differs.
Blip with_separate_decoder(const Blip& source);

class VqaTrainer {
 public:
  // Needs vision, text encoder and decoder. Throws ModelError otherwise.
  VqaTrainer(Blip model, const OptimizerConfig& optimizer);
  VqaTrainer(const VqaTrainer&) = delete;
  VqaTrainer& operator=(const VqaTrainer&) = delete;

  torch::Tensor loss(const VqaBatch& batch);  // scalar with graph
  // loss, backward, clipping, AdamW step. StepResult::losses.lm holds the VQA loss.
  StepResult step(const VqaBatch& batch);

  NamedTensors training_state() const;  // "optimizer.*"
  void load_training_state(const NamedTensors& state, const std::string& source);
  const Blip& model() const { return model_; }

 private:
  Blip model_;
  std::unique_ptr<TrainingOptimizer> optimizer_;
  torch::Device device_;
};

}  // namespace capfilt::model
