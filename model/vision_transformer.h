#pragma once
// The image encoder: a ViT as in BLIP (timm's VisionTransformer): patch embedding convolution,
// [CLS] token, learned position embeddings, pre-norm blocks with a fused qkv projection, GELU MLP,
// final LayerNorm over every token. Parameter names equal the Salesforce checkpoint's
// (visual_encoder.*). Model-internal header (includes Torch).
//
// Forward passes do not modify the module: one loaded encoder may serve several threads.

#include <torch/torch.h>

#include "model/config.h"

namespace capfilt::model {

// One pre-norm block: x + attn(norm1(x)); x + mlp(norm2(x)).
class VitBlockImpl : public torch::nn::Module {
 public:
  VitBlockImpl(const VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& x) const;

  torch::nn::LayerNorm norm1{nullptr};  // blocks.N.norm1
  torch::nn::Linear qkv{nullptr};       // blocks.N.attn.qkv   (rows: q, k, v)
  torch::nn::Linear proj{nullptr};      // blocks.N.attn.proj
  torch::nn::LayerNorm norm2{nullptr};  // blocks.N.norm2
  torch::nn::Linear fc1{nullptr};       // blocks.N.mlp.fc1
  torch::nn::Linear fc2{nullptr};       // blocks.N.mlp.fc2

 private:
  int64_t heads_;
  double eps_;
};
TORCH_MODULE(VitBlock);

class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(const VisionConfig& config);

  // pixels: [B, 3, H, W] normalised (H = W = config.image_size, or any multiple of the patch size:
  // the position embeddings are then interpolated bicubically on the fly).
  // Returns [B, 1 + num_patches, hidden], after the final LayerNorm.
  torch::Tensor forward(const torch::Tensor& pixels) const;

  const VisionConfig& config() const { return config_; }

  torch::nn::Conv2d patch_embed{nullptr};  // patch_embed.proj.{weight,bias}
  torch::Tensor cls_token;                 // cls_token [1, 1, hidden]
  torch::Tensor pos_embed;                 // pos_embed [1, 1 + num_patches, hidden]
  torch::nn::ModuleList blocks{nullptr};   // blocks.N
  torch::nn::LayerNorm norm{nullptr};      // norm

 private:
  VisionConfig config_;
};
TORCH_MODULE(VisionTransformer);

// BLIP's interpolate_pos_embed: resizes position embeddings [1, 1 + n*n, D] to [1, 1 + m*m, D]
// (bicubic over the patch grid, [CLS] kept). Used when loading a checkpoint trained at another
// image size (e.g. 224 -> 384). Returns the input unchanged when the sizes already agree.
torch::Tensor interpolate_pos_embed(const torch::Tensor& pos_embed, int64_t num_patches);

}  // namespace capfilt::model
