#include "model/vision_transformer.h"

#include <cmath>

#include "model/attention.h"
#include "model/error.h"
#include "model/layer_ops.h"

namespace capfilt::model {
namespace {

// BLIP/timm initialisation: truncated normal(0.02) weights, zero biases, unit LayerNorms.
void init_linear(torch::nn::Linear& layer) {
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0.0, 0.02).clamp_(-0.04, 0.04);
  if (layer->bias.defined()) layer->bias.zero_();
}

}  // namespace

VitBlockImpl::VitBlockImpl(const VisionConfig& c) : heads_(c.heads), eps_(c.layer_norm_eps) {
  norm1 = register_module("norm1", make_norm(c.hidden, eps_));
  auto attn = register_module("attn", std::make_shared<torch::nn::Module>());
  qkv = attn->register_module("qkv", torch::nn::Linear(c.hidden, 3 * c.hidden));
  proj = attn->register_module("proj", torch::nn::Linear(c.hidden, c.hidden));
  norm2 = register_module("norm2", make_norm(c.hidden, eps_));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  fc1 = mlp->register_module("fc1", torch::nn::Linear(c.hidden, c.intermediate));
  fc2 = mlp->register_module("fc2", torch::nn::Linear(c.intermediate, c.hidden));
  for (auto* layer : {&qkv, &proj, &fc1, &fc2}) init_linear(*layer);
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) const {
  const int64_t b = x.size(0), n = x.size(1), width = x.size(2);
  // qkv rows are q, k, v: [B, N, 3, H, D] -> [3, B, H, N, D].
  torch::Tensor parts = linear(qkv, layer_norm(norm1, x, eps_))
                            .view({b, n, 3, heads_, width / heads_})
                            .permute({2, 0, 3, 1, 4});
  torch::Tensor context = attend(parts[0], parts[1], parts[2], {});
  torch::Tensor h = x + linear(proj, merge_heads(context));
  return h + linear(fc2, torch::gelu(linear(fc1, layer_norm(norm2, h, eps_))));
}

VisionTransformerImpl::VisionTransformerImpl(const VisionConfig& c) : config_(c) {
  auto pe = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  patch_embed = pe->register_module(
      "proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c.hidden, c.patch_size)
                                    .stride(c.patch_size)));
  {
    torch::NoGradGuard no_grad;
    cls_token = register_parameter("cls_token",
                                   torch::randn({1, 1, c.hidden}).mul_(0.02).clamp_(-0.04, 0.04));
    pos_embed = register_parameter(
        "pos_embed", torch::randn({1, 1 + c.num_patches(), c.hidden}).mul_(0.02).clamp_(-0.04, 0.04));
  }
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.depth; ++i) blocks->push_back(VitBlock(c));
  norm = register_module("norm", make_norm(c.hidden, c.layer_norm_eps));
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& pixels) const {
  if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) % config_.patch_size != 0 ||
      pixels.size(3) % config_.patch_size != 0 || pixels.size(2) == 0 || pixels.size(3) == 0) {
    throw ModelError("vision encoder: expected pixels [B, 3, H, W] with H and W positive multiples "
                     "of " + std::to_string(config_.patch_size) + ", got " +
                     c10::str(pixels.sizes()));
  }
  const int64_t b = pixels.size(0);
  torch::Tensor x = torch::conv2d(pixels, patch_embed->weight, patch_embed->bias,
                                  config_.patch_size)
                        .flatten(2)
                        .transpose(1, 2);
  x = torch::cat({cls_token.expand({b, -1, -1}), x}, 1);
  const int64_t patches = x.size(1) - 1;
  if (pixels.size(2) != pixels.size(3) && patches + 1 != pos_embed.size(1)) {
    throw ModelError("vision encoder: position embeddings need a square image, got " +
                     c10::str(pixels.sizes()));
  }
  x = x + interpolate_pos_embed(pos_embed, patches);
  for (const auto& block : *blocks) x = block->as<VitBlockImpl>()->forward(x);
  return torch::layer_norm(x, {x.size(-1)}, norm->weight, norm->bias, config_.layer_norm_eps);
}

torch::Tensor interpolate_pos_embed(const torch::Tensor& pos_embed, int64_t num_patches) {
  const int64_t old_patches = pos_embed.size(1) - 1;
  if (old_patches == num_patches) return pos_embed;
  const auto old_side = static_cast<int64_t>(std::lround(std::sqrt(double(old_patches))));
  const auto new_side = static_cast<int64_t>(std::lround(std::sqrt(double(num_patches))));
  if (old_side * old_side != old_patches || new_side * new_side != num_patches) {
    throw ModelError("interpolate_pos_embed: patch counts " + std::to_string(old_patches) +
                     " -> " + std::to_string(num_patches) + " are not square grids");
  }
  const int64_t width = pos_embed.size(2);
  torch::Tensor extra = pos_embed.slice(1, 0, 1);
  torch::Tensor grid =
      pos_embed.slice(1, 1).reshape({1, old_side, old_side, width}).permute({0, 3, 1, 2});
  grid = torch::upsample_bicubic2d(grid, {new_side, new_side}, /*align_corners=*/false);
  grid = grid.permute({0, 2, 3, 1}).flatten(1, 2);
  return torch::cat({extra, grid}, 1);
}

}  // namespace capfilt::model
