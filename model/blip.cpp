#include "model/blip.h"

#include <unordered_set>

#include "model/error.h"

namespace capfilt::model {
namespace {

torch::nn::Linear make_linear(int64_t in, int64_t out) {
  torch::nn::Linear layer(in, out);
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0.0, 0.02);
  layer->bias.zero_();
  return layer;
}

}  // namespace

BlipImpl::BlipImpl(const BlipConfig& config) : config_(config) {
  validate(config_, "model config '" + config_.name + "'");
  const Components& parts = config_.components;
  const int64_t cross = config_.cross_width();
  if (parts.vision) {
    visual_encoder = register_module("visual_encoder", VisionTransformer(config_.vision));
  }
  if (parts.text_encoder) {
    text_encoder = register_module("text_encoder", TextTransformer(config_.text, cross));
  }
  if (parts.text_decoder) {
    const TextTransformerImpl* share = parts.text_encoder ? text_encoder.get() : nullptr;
    text_decoder = register_module("text_decoder",
                                   TextDecoder(config_.text, cross, share, config_.sharing));
  }
  if (parts.projections) {
    vision_proj = register_module("vision_proj", make_linear(config_.vision.hidden, config_.embed_dim));
    text_proj = register_module("text_proj", make_linear(config_.text.hidden, config_.embed_dim));
  }
  if (parts.itm_head) itm_head = register_module("itm_head", make_linear(config_.text.hidden, 2));
  if (parts.projections) {
    temp = register_parameter("temp", torch::full({}, config_.temperature));
  }
}

void BlipImpl::require(bool present, const char* part) const {
  if (!present) {
    throw ModelError("model '" + config_.name + "' has no " + part);
  }
}

torch::Tensor BlipImpl::encode_image(const torch::Tensor& pixels) const {
  require(has_vision(), "image encoder");
  return visual_encoder->forward(pixels);
}

torch::Tensor BlipImpl::text_hidden(TextMode mode, const torch::Tensor& ids,
                                    const torch::Tensor& mask, const torch::Tensor& image_embeds,
                                    const torch::Tensor& image_mask, AttentionProbe* probe) const {
  if (mode == TextMode::kDecoder) {
    require(has_text_decoder(), "text decoder");
    return text_decoder->bert->forward(ids, mask, mode, image_embeds, image_mask, probe);
  }
  require(has_text_encoder(), "text encoder");
  return text_encoder->forward(ids, mask, mode, image_embeds, image_mask, probe);
}

torch::Tensor BlipImpl::itm_logits(const torch::Tensor& image_embeds, const torch::Tensor& ids,
                                   const torch::Tensor& mask, AttentionProbe* probe) const {
  require(has_itm_head(), "ITM head");
  torch::Tensor hidden = text_hidden(TextMode::kImageGrounded, ids, mask, image_embeds, {}, probe);
  return torch::linear(hidden.select(1, 0), itm_head->weight, itm_head->bias);
}

torch::Tensor BlipImpl::image_features(const torch::Tensor& image_embeds) const {
  require(has_projections(), "ITC projections");
  torch::Tensor f = torch::linear(image_embeds.select(1, 0), vision_proj->weight, vision_proj->bias);
  return torch::nn::functional::normalize(f, torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

torch::Tensor BlipImpl::text_features(const torch::Tensor& ids, const torch::Tensor& mask) const {
  require(has_projections(), "ITC projections");
  torch::Tensor hidden = text_hidden(TextMode::kUnimodal, ids, mask);
  torch::Tensor f = torch::linear(hidden.select(1, 0), text_proj->weight, text_proj->bias);
  return torch::nn::functional::normalize(f, torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

torch::Tensor BlipImpl::lm_logits(const torch::Tensor& image_embeds, const torch::Tensor& ids,
                                  const torch::Tensor& mask) const {
  return text_decoder->lm_head(lm_hidden(image_embeds, ids, mask));
}

torch::Tensor BlipImpl::lm_hidden(const torch::Tensor& image_embeds, const torch::Tensor& ids,
                                  const torch::Tensor& mask) const {
  require(has_text_decoder(), "text decoder");
  return text_decoder->bert->forward(ids, mask, TextMode::kDecoder, image_embeds);
}

DecoderState BlipImpl::start_decoding(const torch::Tensor& encoder_states,
                                      const torch::Tensor& encoder_mask) const {
  require(has_text_decoder(), "text decoder");
  return text_decoder->start_decoding(encoder_states, encoder_mask);
}

torch::Tensor BlipImpl::decode_step(const torch::Tensor& ids, DecoderState& state,
                                    const torch::Tensor& mask) const {
  require(has_text_decoder(), "text decoder");
  return text_decoder->decode_step(ids, state, mask);
}

torch::Tensor with_first_token(const torch::Tensor& ids, int64_t token) {
  torch::Tensor out = ids.clone();
  if (out.dim() == 2 && out.size(1) > 0) out.select(1, 0).fill_(token);
  return out;
}

int64_t parameter_count(const torch::nn::Module& module) {
  std::unordered_set<const void*> seen;
  int64_t count = 0;
  for (const auto& p : module.parameters()) {
    if (seen.insert(p.unsafeGetTensorImpl()).second) count += p.numel();
  }
  return count;
}

}  // namespace capfilt::model
