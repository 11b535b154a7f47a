#pragma once
// Grad-CAM for image-text matching, as the BLIP and LAVIS demos compute it: the gradient of the ITM
// match logit w.r.t. the cross-attention map of one layer of the image-grounded text encoder, times
// that map, negative gradients clipped (relu(grad) * attention = relu(grad * attention), the map
// being non-negative), averaged over the heads. One map over the patch grid per text token; the
// image's [CLS] token is left out.
//
// Runs with autograd on (the probed layer keeps its attention map as a leaf, model/
// text_transformer.h AttentionProbe) but takes gradients only w.r.t. that map, never accumulating
// into the parameters: several threads may call it on one model. Model-internal header.

#include <torch/torch.h>

#include "model/blip.h"

namespace capfilt::model {

struct GradCamMaps {
  torch::Tensor itm_logits;  // [B, 2] (column 1 = match)
  torch::Tensor maps;        // [B, L, grid, grid] per text token, >= 0; padding rows are zero
  int64_t layer = 0;         // the probed layer
};

// The layer LAVIS's demo uses for BLIP base (the 8th of 12, index 7), scaled to `layers`, and never
// the last layer when there are two or more: in the last layer only the first token's attention
// reaches the ITM head, so every word's map would be zero there.
int64_t default_gradcam_layer(int64_t layers);

// image_embeds [B, 1 + patches, W] (ViT tokens, a square grid of patches); ids [B, L] with the
// first token already chosen ([ENC] or [CLS], as for itm_logits); mask [B, L]. layer < 0: the
// default. Throws ModelError for a model without ITM head or a layer it does not have.
GradCamMaps itm_gradcam(const BlipImpl& model, const torch::Tensor& image_embeds,
                        const torch::Tensor& ids, const torch::Tensor& mask, int64_t layer = -1);

}  // namespace capfilt::model
