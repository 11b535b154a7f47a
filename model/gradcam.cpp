#include "model/gradcam.h"

#include <algorithm>
#include <cmath>

#include "model/error.h"

namespace capfilt::model {
namespace {

// Inference tensors (from an InferenceMode caller) cannot take part in a recorded graph; a clone
// made outside that mode can.
torch::Tensor normal_tensor(const torch::Tensor& t) {
  return t.defined() && t.is_inference() ? t.clone() : t;
}

}  // namespace

int64_t default_gradcam_layer(int64_t layers) {
  if (layers <= 1) return 0;
  const auto scaled =
      static_cast<int64_t>(std::lround(static_cast<double>(layers) * 8.0 / 12.0)) - 1;
  return std::clamp<int64_t>(scaled, 0, layers - 2);
}

GradCamMaps itm_gradcam(const BlipImpl& model, const torch::Tensor& image_embeds,
                        const torch::Tensor& ids, const torch::Tensor& mask, int64_t layer) {
  if (!model.has_text_encoder() || !model.has_itm_head()) {
    throw ModelError("Grad-CAM needs the image-grounded text encoder and the ITM head");
  }
  const int64_t patches = image_embeds.size(1) - 1;
  const auto grid = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(patches))));
  if (grid * grid != patches) {
    throw ModelError("Grad-CAM: " + std::to_string(patches) +
                     " image patches are not a square grid");
  }
  if (layer < 0) layer = default_gradcam_layer(model.text_encoder->num_layers());

  c10::InferenceMode inference_off(false);
  torch::AutoGradMode grad_on(true);
  const torch::Tensor states = normal_tensor(image_embeds);
  const torch::Tensor token_ids = normal_tensor(ids);
  const torch::Tensor token_mask = normal_tensor(mask);
  AttentionProbe probe;
  probe.layer = layer;
  GradCamMaps out;
  out.layer = layer;
  out.itm_logits = model.itm_logits(states, token_ids, token_mask, &probe);
  const torch::Tensor grads =
      torch::autograd::grad({out.itm_logits.select(1, 1).sum()}, {probe.probs})[0];

  torch::NoGradGuard no_grad;
  const int64_t b = probe.probs.size(0), l = probe.probs.size(2);
  torch::Tensor cam = (grads.clamp_min(0) * probe.probs).mean(1);  // [B, L, 1 + patches]
  cam = cam.narrow(2, 1, patches).reshape({b, l, grid, grid});
  if (token_mask.defined()) cam = cam * token_mask.to(cam.dtype()).view({b, l, 1, 1});
  out.maps = cam;
  out.itm_logits = out.itm_logits.detach();
  return out;
}

}  // namespace capfilt::model
