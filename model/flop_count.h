#pragma once
// The arithmetic of BLIP's passes, counted as a GEMM rate is quoted: 2 FLOPs per multiply-add of
// every matrix product (projections, MLPs, attention scores and context, the LM head). Element-wise
// work (softmax, GELU, layer norms, residuals) is left out, so a pass's count divided by its time
// is the rate it reaches on what a BLAS does. Used by the benchmarks to say how close a run comes
// to the machine's GEMM rate. Torch-free.

#include <cstdint>

#include "model/config.h"

namespace capfilt::model {

// The ViT on one image: patch embedding and every block, over 1 + patches tokens.
double vit_flops(const VisionConfig& vision);

// Projecting one image's tokens to the cross-attention keys and values of every text layer (done
// once per image: the decoder caches them, the scorer shares them between an image's captions).
double cross_kv_flops(const BlipConfig& config);

// A text pass over `tokens` tokens, without the cross-attention keys/values: self-attention
// (each token against `tokens` keys; causal decoding averages to about half), the cross-attention
// queries, scores, context and output when `grounded`, and the feed-forward network.
double text_flops(const BlipConfig& config, int64_t tokens, bool grounded);

// Decoding `generated` tokens after a start token, one at a time with the keys/values cached: the
// grounded decoder on every input position and the LM head (transform and vocabulary projection)
// on every position that predicts a token.
double decode_flops(const BlipConfig& config, int64_t generated);

// The ITC projection of one image or text embedding.
double projection_flops(const BlipConfig& config, bool image);

}  // namespace capfilt::model
