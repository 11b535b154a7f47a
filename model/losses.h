#pragma once
// BLIP's three pre-training losses as functions on tensors, so each can be tested by hand without a
// model: image-text contrastive (ITC) with momentum soft targets, image-text matching (ITM) with
// hard negatives drawn from the ITC similarities, and the decoder's label-smoothed language-model
// loss (LM). Shapes follow salesforce/BLIP models/blip_pretrain.py and blip_retrieval.py.
//
// Model-internal header (includes Torch).

#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace capfilt::model {

// Target value that the LM loss ignores (pad and prompt tokens), as in PyTorch.
inline constexpr int64_t kIgnoreIndex = -100;

// Row-normalised "same image" matrix: entry (i, j) is 1/n_i when row_ids[i] == col_ids[j], where
// n_i counts the matches of row i, else 0. row_ids: [B] int64, col_ids: [K] int64 -> [B, K] float.
// Rows with no match are all zero (cannot happen in training: the batch is part of the columns).
torch::Tensor same_image_targets(const torch::Tensor& row_ids, const torch::Tensor& col_ids);

// ITC soft targets: alpha * softmax(momentum_logits, 1) + (1 - alpha) * hard_targets.
// momentum_logits: [B, K] (momentum similarities already divided by the temperature).
torch::Tensor itc_soft_targets(const torch::Tensor& momentum_logits,
                               const torch::Tensor& hard_targets, double alpha);

// Cross-entropy against a soft distribution, averaged over rows:
// mean_i( -sum_j targets[i, j] * log_softmax(logits)[i, j] ).
torch::Tensor soft_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

// Inputs of the ITC loss for one batch of B pairs, D-dimensional normalised features, and a queue
// of Q earlier momentum features (columns), as in BLIP's retrieval model.
struct ItcInputs {
  torch::Tensor image_feat;    // [B, D] online image features (with grad)
  torch::Tensor text_feat;     // [B, D] online text features (with grad)
  torch::Tensor image_feat_m;  // [B, D] momentum image features (no grad)
  torch::Tensor text_feat_m;   // [B, D] momentum text features (no grad)
  torch::Tensor image_queue;   // [D, Q] queued momentum image features (Q may be 0)
  torch::Tensor text_queue;    // [D, Q] queued momentum text features
  torch::Tensor ids;           // [B] int64 image id of each pair; equal ids are positives
  torch::Tensor queue_ids;     // [Q] int64 image ids of the queued features (-100: empty slot)
  torch::Tensor temperature;   // scalar, learnable; the caller clamps it to [0.001, 0.5]
  double alpha = 0.4;          // weight of the momentum distillation targets
  // Data-parallel training: the momentum features and ids of the global batch ([G, D], [G]), which
  // replace the local ones as the batch's columns; the rows stay this rank's B pairs.
  // Undefined: the columns are the local batch.
  torch::Tensor image_feat_m_all;
  torch::Tensor text_feat_m_all;
  torch::Tensor ids_all;
};

// (H(q_i2t, p_i2t) + H(q_t2i, p_t2i)) / 2 where the columns are batch (global batch when given) +
// queue, averaged over the rows.
torch::Tensor itc_loss(const ItcInputs& in);

// Indices of the hard negatives for ITM: one negative text per image and one negative image per
// text, drawn from softmax(similarity) (plus 1e-4 as BLIP does, so an underflowing softmax still
// gives every candidate a chance) with the positive and every same-image duplicate given zero
// weight. Throws ModelError when some row has no candidate at all (every pair shows one image).
struct HardNegatives {
  torch::Tensor text_for_image;  // [B] int64: index of the negative text of image i
  torch::Tensor image_for_text;  // [B] int64: index of the negative image of text i
};
// sim_i2t, sim_t2i: [B, B] in-batch similarities (any scale); ids: [B] int64 image ids.
// `generator` (optional) makes the draw reproducible.
HardNegatives sample_hard_negatives(const torch::Tensor& sim_i2t, const torch::Tensor& sim_t2i,
                                    const torch::Tensor& ids,
                                    c10::optional<at::Generator> generator = c10::nullopt);

// The per-row sampling weights sample_hard_negatives draws from (exposed for tests).
torch::Tensor hard_negative_weights(const torch::Tensor& similarity, const torch::Tensor& ids);

// ITM loss: cross-entropy of the [N, 2] match logits (class 1 = match) against labels [N] int64.
torch::Tensor itm_loss(const torch::Tensor& logits, const torch::Tensor& labels);

// Decoder targets from decoder input ids [B, L]: a copy with pad tokens and the first
// `prompt_length` tokens ([DEC] + prompt) set to kIgnoreIndex.
torch::Tensor lm_labels(const torch::Tensor& input_ids, int64_t pad_id, int64_t prompt_length);

// LM loss: logits [B, L, V] predict the token after each position, so position t is scored against
// labels[:, t + 1]. Cross-entropy with label smoothing `smoothing` (PyTorch's definition: the target
// is (1 - s) one-hot + s / V uniform), averaged over the targets that are not kIgnoreIndex.
torch::Tensor lm_loss(const torch::Tensor& logits, const torch::Tensor& labels, double smoothing);

// The same loss from the decoder's hidden states [B, L, H]: `head` (the LM head, [N, H] -> [N, V])
// runs only on the N positions whose next token is scored, not on padding and prompt. Equal to
// lm_loss(head(hidden), labels, smoothing) up to summation order; a training step over short
// captions padded to a long one no longer spends most of its time on vocabulary rows it discards.
// With no scored position it is 0 (hidden.sum() * 0, so backward still reaches every input).
torch::Tensor lm_loss_at_targets(const torch::Tensor& hidden, const torch::Tensor& labels,
                                 const std::function<torch::Tensor(const torch::Tensor&)>& head,
                                 double smoothing);

}  // namespace capfilt::model
