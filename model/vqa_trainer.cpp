#include "model/vqa_trainer.h"

#include "model/error.h"
#include "model/losses.h"

namespace capfilt::model {
namespace {

torch::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

}  // namespace

Blip with_separate_decoder(const Blip& source) {
  if (source->config().sharing == SharingMode::kSeparate) return source;
  BlipConfig c = source->config();
  c.sharing = SharingMode::kSeparate;
  Blip out(c);
  const NamedTensors from = state_dict(*source);
  NamedTensors mapped;
  const std::string dec = "text_decoder.bert.";
  for (const auto& [name, t] : state_dict(*out)) {
    auto it = from.find(name);
    if (it == from.end() && name.rfind(dec, 0) == 0) it = from.find("text_encoder." + name.substr(dec.size()));
    if (it == from.end()) {
      throw ModelError("VQA model: no weights for '" + name + "' in model '" +
                       source->config().name + "'");
    }
    mapped[name] = it->second;
  }
  load_state_dict_strict(*out, mapped, "VQA model from '" + source->config().name + "'");
  out->to(device_of(*source));
  return out;
}

VqaTrainer::VqaTrainer(Blip model, const OptimizerConfig& optimizer)
    : model_(std::move(model)), device_(device_of(*model_)) {
  if (!model_->has_vision() || !model_->has_text_encoder() || !model_->has_text_decoder()) {
    throw ModelError("VQA training needs the image encoder, the text encoder and the decoder");
  }
  optimizer_ = std::make_unique<TrainingOptimizer>(trainable_parameters(*model_), optimizer);
}

torch::Tensor VqaTrainer::loss(const VqaBatch& b) {
  const SpecialTokens& tokens = model_->config().text.tokens;
  const torch::Tensor image_embeds = model_->encode_image(b.pixels.to(device_));
  const torch::Tensor q_ids = with_first_token(b.question_ids, tokens.enc).to(device_);
  const torch::Tensor q_mask = b.question_mask.to(device_);
  const torch::Tensor states =
      model_->text_hidden(TextMode::kImageGrounded, q_ids, q_mask, image_embeds);
  const torch::Tensor owner = b.answer_owner.to(device_);
  const torch::Tensor a_ids = with_first_token(b.answer_ids, tokens.dec).to(device_);
  const torch::Tensor a_mask = b.answer_mask.to(device_);
  const torch::Tensor logits = model_->text_decoder->forward(
      a_ids, a_mask, states.index_select(0, owner), q_mask.index_select(0, owner));
  const torch::Tensor labels = lm_labels(a_ids.masked_fill(a_mask.eq(0), tokens.pad), tokens.pad, 1);
  const int64_t vocab = logits.size(-1);
  const int64_t a = logits.size(0);
  const torch::Tensor per_token = torch::nn::functional::cross_entropy(
      logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, vocab}),
      labels.narrow(1, 1, labels.size(1) - 1).reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions()
          .ignore_index(kIgnoreIndex)
          .label_smoothing(model_->config().label_smoothing)
          .reduction(torch::kNone));
  const torch::Tensor per_answer = per_token.view({a, -1}).sum(1);
  return (per_answer * b.answer_weight.to(device_).to(per_answer.dtype())).sum() /
         static_cast<double>(b.pixels.size(0));
}

StepResult VqaTrainer::step(const VqaBatch& batch) {
  model_->train();
  optimizer_->zero_grad();
  const torch::Tensor l = loss(batch);
  l.backward();
  StepResult r;
  r.learning_rate = optimizer_->current_lr();
  r.grad_norm = optimizer_->step();
  r.losses.lm = l.item<double>();
  return r;
}

NamedTensors VqaTrainer::training_state() const {
  NamedTensors out;
  for (auto& [name, t] : optimizer_->state_tensors()) out["optimizer." + name] = t;
  return out;
}

void VqaTrainer::load_training_state(const NamedTensors& state, const std::string& source) {
  NamedTensors optimizer;
  for (const auto& [name, t] : state) {
    if (name.rfind("optimizer.", 0) != 0) {
      throw ModelError(source + ": unexpected tensor '" + name + "' in a VQA training state");
    }
    optimizer[name.substr(10)] = t;
  }
  optimizer_->load_state_tensors(optimizer, source);
}

}  // namespace capfilt::model
