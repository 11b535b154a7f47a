#include "model/losses.h"

#include <string>

#include "model/error.h"

namespace capfilt::model {
namespace F = torch::nn::functional;

torch::Tensor same_image_targets(const torch::Tensor& row_ids, const torch::Tensor& col_ids) {
  const torch::Tensor same = row_ids.view({-1, 1}).eq(col_ids.view({1, -1})).to(torch::kFloat);
  return same / same.sum(1, /*keepdim=*/true).clamp_min(1.0);
}

torch::Tensor itc_soft_targets(const torch::Tensor& momentum_logits,
                               const torch::Tensor& hard_targets, double alpha) {
  return alpha * torch::softmax(momentum_logits, 1) + (1.0 - alpha) * hard_targets;
}

torch::Tensor soft_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  return -(torch::log_softmax(logits, 1) * targets).sum(1).mean();
}

torch::Tensor itc_loss(const ItcInputs& in) {
  const torch::Tensor& batch_ids = in.ids_all.defined() ? in.ids_all : in.ids;
  const torch::Tensor& batch_image_m = in.image_feat_m_all.defined() ? in.image_feat_m_all : in.image_feat_m;
  const torch::Tensor& batch_text_m = in.text_feat_m_all.defined() ? in.text_feat_m_all : in.text_feat_m;
  const torch::Tensor all_ids = torch::cat({batch_ids, in.queue_ids.to(in.ids.device())});
  const torch::Tensor hard =
      same_image_targets(in.ids, all_ids).to(in.image_feat.scalar_type());
  torch::Tensor image_feat_m_all;
  torch::Tensor text_feat_m_all;
  torch::Tensor targets_i2t;
  torch::Tensor targets_t2i;
  {
    torch::NoGradGuard no_grad;
    image_feat_m_all = torch::cat({batch_image_m.t(), in.image_queue}, 1);
    text_feat_m_all = torch::cat({batch_text_m.t(), in.text_queue}, 1);
    const torch::Tensor temp = in.temperature.detach();
    targets_i2t = itc_soft_targets(in.image_feat_m.matmul(text_feat_m_all) / temp, hard, in.alpha);
    targets_t2i = itc_soft_targets(in.text_feat_m.matmul(image_feat_m_all) / temp, hard, in.alpha);
  }
  const torch::Tensor sim_i2t = in.image_feat.matmul(text_feat_m_all) / in.temperature;
  const torch::Tensor sim_t2i = in.text_feat.matmul(image_feat_m_all) / in.temperature;
  return (soft_cross_entropy(sim_i2t, targets_i2t) + soft_cross_entropy(sim_t2i, targets_t2i)) /
         2.0;
}

torch::Tensor hard_negative_weights(const torch::Tensor& similarity, const torch::Tensor& ids) {
  const torch::Tensor same = ids.view({-1, 1}).eq(ids.view({1, -1}));
  torch::Tensor weights = torch::softmax(similarity.detach().to(torch::kFloat), 1) + 1e-4;
  return weights.masked_fill(same, 0.0);
}

namespace {

torch::Tensor draw(const torch::Tensor& weights, const c10::optional<at::Generator>& generator,
                   const char* what) {
  const torch::Tensor empty_rows = weights.sum(1).le(0.0);
  if (empty_rows.any().item<bool>()) {
    throw ModelError(std::string("hard negatives: no candidate ") + what +
                     " for some row (every pair in the batch shows the same image)");
  }
  return torch::multinomial(weights, 1, /*replacement=*/false, generator).view({-1});
}

}  // namespace

HardNegatives sample_hard_negatives(const torch::Tensor& sim_i2t, const torch::Tensor& sim_t2i,
                                    const torch::Tensor& ids,
                                    c10::optional<at::Generator> generator) {
  torch::NoGradGuard no_grad;
  HardNegatives out;
  out.text_for_image = draw(hard_negative_weights(sim_i2t, ids), generator, "text");
  out.image_for_text = draw(hard_negative_weights(sim_t2i, ids), generator, "image");
  return out;
}

torch::Tensor itm_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return F::cross_entropy(logits, labels);
}

torch::Tensor lm_labels(const torch::Tensor& input_ids, int64_t pad_id, int64_t prompt_length) {
  torch::Tensor labels = input_ids.masked_fill(input_ids.eq(pad_id), kIgnoreIndex);
  if (prompt_length > 0) {
    labels.narrow(1, 0, std::min<int64_t>(prompt_length, labels.size(1))).fill_(kIgnoreIndex);
  }
  return labels;
}

torch::Tensor lm_loss(const torch::Tensor& logits, const torch::Tensor& labels, double smoothing) {
  const int64_t vocab = logits.size(-1);
  const torch::Tensor shifted = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, vocab});
  const torch::Tensor targets = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});
  return F::cross_entropy(shifted, targets,
                          F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex).label_smoothing(
                              smoothing));
}

torch::Tensor lm_loss_at_targets(const torch::Tensor& hidden, const torch::Tensor& labels,
                                 const std::function<torch::Tensor(const torch::Tensor&)>& head,
                                 double smoothing) {
  const int64_t length = hidden.size(1) - 1;
  const torch::Tensor targets = labels.narrow(1, 1, length).reshape({-1});
  const torch::Tensor rows = targets.ne(kIgnoreIndex).nonzero().view({-1});
  if (rows.numel() == 0) return hidden.sum() * 0.0;
  const torch::Tensor scored =
      hidden.narrow(1, 0, length).reshape({-1, hidden.size(2)}).index_select(0, rows);
  return F::cross_entropy(head(scored), targets.index_select(0, rows),
                          F::CrossEntropyFuncOptions().label_smoothing(smoothing));
}

}  // namespace capfilt::model
