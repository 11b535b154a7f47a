#include "model/pretrain.h"

#include "model/error.h"
#include "model/losses.h"

namespace capfilt::model {
namespace {

torch::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

void require_all_components(const BlipImpl& model) {
  if (!model.has_vision() || !model.has_text_encoder() || !model.has_text_decoder() ||
      !model.has_itm_head() || !model.has_projections()) {
    throw ModelError("pre-training needs every component (vision, text encoder, text decoder, "
                     "ITM head, projections); model '" + model.config().name + "' lacks one");
  }
}

}  // namespace

BlipConfig momentum_config(const BlipConfig& config) {
  BlipConfig c = config;
  c.components.text_decoder = false;
  c.components.itm_head = false;
  return c;
}

Pretrainer::Pretrainer(Blip model, const PretrainOptions& options)
    : model_(std::move(model)),
      momentum_(nullptr),
      queue_(model_->config().embed_dim, model_->config().queue_size, device_of(*model_),
             options.seed),
      generator_(at::detail::createCPUGenerator(options.seed)),
      device_(device_of(*model_)) {
  require_all_components(*model_);
  momentum_ = Blip(momentum_config(model_->config()));
  momentum_->to(device_);
  momentum_->eval();
  for (auto& p : momentum_->parameters()) p.set_requires_grad(false);
  pairs_ = pair_parameters(*model_, *momentum_, {"temp"});
  copy_parameters(pairs_);
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
  {
    torch::NoGradGuard no_grad;
    model_->temp.clamp_(0.001, 0.5);
  }

  // ViT once; the unimodal text encoder (MED forward 1).
  const torch::Tensor image_embeds = model_->encode_image(pixels);
  const torch::Tensor image_feat = model_->image_features(image_embeds);
  const torch::Tensor text_feat = model_->text_features(ids, mask);

  torch::Tensor image_feat_m, text_feat_m;
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
  Losses losses;
  losses.itc = itc_loss(itc);

  // ITM (MED forward 2): B positives, then a hard negative image for each text and a hard negative
  // text for each image, in one batch of 3B.
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

  // LM (MED forward 3): [DEC] first, pad and prompt tokens ignored.
  const torch::Tensor dec_ids = with_first_token(ids, tokens.dec);
  const torch::Tensor labels = lm_labels(dec_ids.masked_fill(mask.eq(0), tokens.pad), tokens.pad,
                                         batch.prompt_length);
  losses.lm = lm_loss(model_->lm_logits(image_embeds, dec_ids, mask), labels,
                      config.label_smoothing);

  queue_.enqueue(image_feat_m, text_feat_m, image_ids);
  return losses;
}

StepResult Pretrainer::step(const PretrainBatch& batch) {
  model_->train();
  optimizer_->zero_grad();
  const Losses losses = forward(batch);
  (losses.itc + losses.itm + losses.lm).backward();
  StepResult result;
  result.learning_rate = optimizer_->current_lr();
  result.grad_norm = optimizer_->step();
  ema_update(pairs_, model_->config().momentum);
  result.losses.itc = losses.itc.item<double>();
  result.losses.itm = losses.itm.item<double>();
  result.losses.lm = losses.lm.item<double>();
  result.temperature = model_->temp.item<double>();
  return result;
}

}  // namespace capfilt::model
