#pragma once
// Scaled dot-product attention in one place: LibTorch 2's fused kernel where available, a plain
// matmul/softmax path on LibTorch 1.x. Model-internal header (includes Torch).

#include <torch/torch.h>

namespace capfilt::model {

// softmax(q k^T / sqrt(d) + additive_mask) v. q [B, H, Lq, D], k and v [B, H, Lk, D];
// additive_mask broadcasts to [B, H, Lq, Lk] and is float (undefined: none).
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& additive_mask);

// [B, L, H * D] -> [B, H, L, D] and back.
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads);
torch::Tensor merge_heads(const torch::Tensor& x);

}  // namespace capfilt::model
