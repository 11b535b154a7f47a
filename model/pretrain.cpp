#include "model/pretrain.h"

#include "model/error.h"
#include "model/losses.h"

namespace capfilt::model {
namespace {

torch::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

void require_components(const BlipImpl& model, const LossTerms& terms) {
  if (!terms.itc && !terms.itm && !terms.lm) throw ModelError("training: no loss term enabled");
  const std::string name = "model '" + model.config().name + "'";
  auto need = [&](bool present, const char* part, const char* term) {
    if (!present) throw ModelError(std::string(term) + " needs the " + part + "; " + name + " has none");
  };
  need(model.has_vision(), "image encoder", "training");
  if (terms.itc || terms.itm) {
    need(model.has_text_encoder(), "text encoder", "ITC/ITM");
    need(model.has_projections(), "ITC projections", "ITC/ITM");
  }
  if (terms.itm) need(model.has_itm_head(), "ITM head", "ITM");
  if (terms.lm) need(model.has_text_decoder(), "text decoder", "LM");
}

torch::Tensor zero_if_undefined(const torch::Tensor& t) { return t.defined() ? t : torch::zeros({}); }

}  // namespace

BlipConfig momentum_config(const BlipConfig& config) {
  BlipConfig c = config;
  c.components.text_decoder = false;
  c.components.itm_head = false;
  return c;
}

Pretrainer::Pretrainer(Blip model, const PretrainOptions& options)
    : model_(std::move(model)),
      terms_(options.terms),
      momentum_(nullptr),
      queue_(model_->config().embed_dim, options.terms.itc ? model_->config().queue_size : 0,
             device_of(*model_), options.seed),
      generator_(at::detail::createCPUGenerator(options.seed)),
      device_(device_of(*model_)) {
  require_components(*model_, terms_);
  if (terms_.itc) {
    momentum_ = Blip(momentum_config(model_->config()));
    momentum_->to(device_);
    momentum_->eval();
    for (auto& p : momentum_->parameters()) p.set_requires_grad(false);
    pairs_ = pair_parameters(*model_, *momentum_, {"temp"});
    copy_parameters(pairs_);
  }
  optimizer_ = std::make_unique<TrainingOptimizer>(trainable_parameters(*model_), options.optimizer);
}

Pretrainer::Losses Pretrainer::forward(const PretrainBatch& batch) {
  const BlipConfig& config = model_->config();
  const SpecialTokens& tokens = config.text.tokens;
  const torch::Tensor pixels = batch.pixels.to(device_);
  const torch::Tensor ids = batch.ids.to(device_);
  const torch::Tensor mask = batch.mask.to(device_);
  const torch::Tensor image_ids = batch.image_ids.to(device_).to(torch::kLong);
  const int64_t b = ids.size(0);
  if (model_->has_projections()) {
    torch::NoGradGuard no_grad;
    model_->temp.clamp_(0.001, 0.5);
  }

  // ViT once; the unimodal text encoder (MED forward 1).
  const torch::Tensor image_embeds = model_->encode_image(pixels);
  Losses losses;
  torch::Tensor image_feat, text_feat, image_feat_m, text_feat_m;
  if (terms_.itc || terms_.itm) {
    image_feat = model_->image_features(image_embeds);
    text_feat = model_->text_features(ids, mask);
  }
  if (terms_.itc) {
    {
      torch::NoGradGuard no_grad;
      image_feat_m = momentum_->image_features(momentum_->encode_image(pixels));
      text_feat_m = momentum_->text_features(ids, mask);
    }
    ItcInputs itc;
    itc.image_feat = image_feat;
    itc.text_feat = text_feat;
    itc.image_feat_m = image_feat_m;
    itc.text_feat_m = text_feat_m;
    itc.image_queue = queue_.image_queue().clone();
    itc.text_queue = queue_.text_queue().clone();
    itc.ids = image_ids;
    itc.queue_ids = queue_.ids().clone();
    itc.temperature = model_->temp;
    itc.alpha = config.alpha;
    losses.itc = itc_loss(itc);
  }

  if (terms_.itm) {
    // ITM (MED forward 2): B positives, then a hard negative image for each text and a hard
    // negative text for each image, in one batch of 3B.
    HardNegatives neg;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor temp = model_->temp.detach();
      const torch::Tensor sim_i2t = (image_feat.detach().matmul(text_feat.detach().t()) / temp).cpu();
      const torch::Tensor sim_t2i = (text_feat.detach().matmul(image_feat.detach().t()) / temp).cpu();
      neg = sample_hard_negatives(sim_i2t, sim_t2i, image_ids.cpu(), generator_);
    }
    const torch::Tensor neg_image = neg.image_for_text.to(device_);
    const torch::Tensor neg_text = neg.text_for_image.to(device_);
    const torch::Tensor enc_ids = with_first_token(ids, tokens.enc);
    const torch::Tensor itm_images =
        torch::cat({image_embeds, image_embeds.index_select(0, neg_image), image_embeds});
    const torch::Tensor itm_ids = torch::cat({enc_ids, enc_ids, enc_ids.index_select(0, neg_text)});
    const torch::Tensor itm_mask = torch::cat({mask, mask, mask.index_select(0, neg_text)});
    const torch::Tensor itm_labels =
        torch::cat({torch::ones({b}, torch::kLong), torch::zeros({2 * b}, torch::kLong)}).to(device_);
    losses.itm = itm_loss(model_->itm_logits(itm_images, itm_ids, itm_mask), itm_labels);
  }

  if (terms_.lm) {
    // LM (MED forward 3): [DEC] first, pad and prompt tokens ignored.
    const torch::Tensor dec_ids = with_first_token(ids, tokens.dec);
    const torch::Tensor labels = lm_labels(dec_ids.masked_fill(mask.eq(0), tokens.pad), tokens.pad,
                                           batch.prompt_length);
    losses.lm = lm_loss(model_->lm_logits(image_embeds, dec_ids, mask), labels,
                        config.label_smoothing);
  }

  if (terms_.itc) queue_.enqueue(image_feat_m, text_feat_m, image_ids);
  return losses;
}

StepResult Pretrainer::step(const PretrainBatch& batch) {
  model_->train();
  optimizer_->zero_grad();
  const Losses losses = forward(batch);
  torch::Tensor total;
  for (const torch::Tensor* t : {&losses.itc, &losses.itm, &losses.lm}) {
    if (t->defined()) total = total.defined() ? total + *t : *t;
  }
  total.backward();
  StepResult result;
  result.learning_rate = optimizer_->current_lr();
  result.grad_norm = optimizer_->step();
  if (terms_.itc) ema_update(pairs_, model_->config().momentum);
  result.losses.itc = zero_if_undefined(losses.itc).item<double>();
  result.losses.itm = zero_if_undefined(losses.itm).item<double>();
  result.losses.lm = zero_if_undefined(losses.lm).item<double>();
  result.temperature = model_->has_projections() ? model_->temp.item<double>() : 0.0;
  return result;
}

NamedTensors Pretrainer::training_state() const {
  NamedTensors out;
  if (momentum_) {
    for (const auto& [name, t] : state_dict(*momentum_)) out["momentum." + name] = t.cpu().clone();
  }
  out["queue.image"] = queue_.image_queue().cpu().clone();
  out["queue.text"] = queue_.text_queue().cpu().clone();
  out["queue.ids"] = queue_.ids().cpu().clone();
  out["queue.pointer"] = torch::full({}, queue_.pointer(), torch::kLong);
  out["generator"] = generator_.get_state().clone();
  for (auto& [name, t] : optimizer_->state_tensors()) out["optimizer." + name] = t;
  return out;
}

void Pretrainer::load_training_state(const NamedTensors& state, const std::string& source) {
  auto take = [&](const std::string& name) -> const torch::Tensor& {
    const auto it = state.find(name);
    if (it == state.end()) throw ModelError(source + ": training state lacks '" + name + "'");
    return it->second;
  };
  NamedTensors momentum, optimizer;
  for (const auto& [name, t] : state) {
    if (name.rfind("momentum.", 0) == 0) momentum[name.substr(9)] = t;
    if (name.rfind("optimizer.", 0) == 0) optimizer[name.substr(10)] = t;
  }
  if (momentum_) {
    load_state_dict_strict(*momentum_, momentum, source + " (momentum encoders)");
  } else if (!momentum.empty()) {
    throw ModelError(source + ": training state holds momentum encoders but this task has no ITC");
  }
  queue_.restore(take("queue.image"), take("queue.text"), take("queue.ids"),
                 take("queue.pointer").item<int64_t>(), source);
  generator_.set_state(take("generator"));
  optimizer_->load_state_tensors(optimizer, source);
}

}  // namespace capfilt::model
