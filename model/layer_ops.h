#pragma once
// Small layer helpers the ViT and the MED share. Model-internal header (includes Torch).

#include <torch/torch.h>

namespace capfilt::model {

// A Linear layer's affine map, called on the tensor directly (no module call overhead).
inline torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return torch::linear(x, layer->weight, layer->bias);
}

// LayerNorm over the last dimension with an explicit epsilon (checkpoints differ: 1e-5, 1e-6, 1e-12).
inline torch::Tensor layer_norm(const torch::nn::LayerNorm& norm, const torch::Tensor& x,
                                double eps) {
  return torch::layer_norm(x, {x.size(-1)}, norm->weight, norm->bias, eps);
}

inline torch::nn::LayerNorm make_norm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}

}  // namespace capfilt::model
