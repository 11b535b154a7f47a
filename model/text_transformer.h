#pragma once
// MED, BLIP's multimodal mixture of encoder-decoder: one BERT-style text transformer used in three
// modes (TextMode). Every layer has self-attention, cross-attention to the image tokens and a
// feed-forward network; the unimodal mode skips cross-attention, the decoder mode makes
// self-attention causal. Parameter names equal the Salesforce / Hugging Face BERT names
// (embeddings.word_embeddings, encoder.layer.N.attention.self.query, ...crossattention...,
// intermediate.dense, output.dense, output.LayerNorm; cls.predictions.* for the LM head).
//
// Masks follow BERT as BLIP uses it: self-attention adds (1 - m) * -10000 (with the causal mask
// folded into m in the decoder); cross-attention adds (1 - m) * lowest float.
//
// The modules are read-only during forward passes; incremental decoding keeps its keys and values
// in a DecoderState owned by the caller, so several threads may decode with one model.
// Model-internal header (includes Torch).

#include <torch/torch.h>

#include <vector>

#include "model/config.h"

namespace capfilt::model {

enum class TextMode {
  kUnimodal,       // bidirectional, no cross-attention (ITC text features)
  kImageGrounded,  // bidirectional with cross-attention ([ENC] first; ITM, VQA question)
  kDecoder,        // causal with cross-attention ([DEC] first; captions, answers)
};

// BERT attention block: `self` (query/key/value) + `output` (dense, LayerNorm, residual).
// Used as `attention` (keys from the text) and `crossattention` (keys from encoder states).
class BertAttentionImpl : public torch::nn::Module {
 public:
  BertAttentionImpl(int64_t hidden, int64_t kv_width, int64_t heads, double eps);

  // Keys and values of `states` [B, N, kv_width] as [B, heads, N, head_dim].
  std::pair<torch::Tensor, torch::Tensor> project_kv(const torch::Tensor& states) const;
  // LayerNorm(x + dense(attention(query(x), k, v, additive_mask))).
  // additive_mask broadcasts to [B, heads, Lq, Lk] (undefined: none).
  // groups > 1: k, v and the mask hold one row per `groups` consecutive rows of x (the beams or
  // samples of one image attend to that image's keys once, without copies of them per row).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& additive_mask, int64_t groups = 1) const;
  // forward() through an explicit softmax whose probabilities [B, heads, Lq, Lk] are returned in
  // `probs` as a leaf that requires grad; the output depends on the leaf, so gradients of anything
  // computed from it can be taken w.r.t. the attention map (Grad-CAM). Slower than forward(); only
  // AttentionProbe uses it.
  torch::Tensor forward_probed(const torch::Tensor& x, const torch::Tensor& k,
                               const torch::Tensor& v, const torch::Tensor& additive_mask,
                               torch::Tensor* probs) const;

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};  // self.{query,key,value}
  torch::nn::Linear dense{nullptr};                                 // output.dense
  torch::nn::LayerNorm layer_norm{nullptr};                         // output.LayerNorm

 private:
  int64_t heads_;
  double eps_;
};
TORCH_MODULE(BertAttention);

// One MED layer. `attention` is the layer's own self-attention unless shared; `crossattention`
// and the FFN may belong to another layer (see TextTransformerImpl).
class TextLayerImpl : public torch::nn::Module {
 public:
  // share: a layer of the text encoder this (decoder) layer takes modules from, or nullptr.
  TextLayerImpl(const TextConfig& config, int64_t cross_width, const TextLayerImpl* share,
                SharingMode sharing);

  // FFN: LayerNorm(x + output.dense(gelu(intermediate.dense(x)))).
  torch::Tensor feed_forward(const torch::Tensor& x) const;

  BertAttention attention{nullptr};       // attention.*
  BertAttention crossattention{nullptr};  // crossattention.*
  torch::nn::Linear intermediate{nullptr};  // intermediate.dense
  torch::nn::Linear output{nullptr};        // output.dense
  torch::nn::LayerNorm output_norm{nullptr};  // output.LayerNorm

 private:
  double eps_;
};
TORCH_MODULE(TextLayer);

// Per-call state of incremental decoding: self-attention keys/values of the tokens seen so far
// (they grow by one entry per step) and cross-attention keys/values over the encoder states
// (computed once by TextTransformerImpl::start_decoding). Rows are sequences (images × beams).
// Not thread-safe; one per decoding call.
class DecoderState {
 public:
  struct Layer {
    torch::Tensor self_k, self_v;    // [B, heads, T, head_dim] (undefined before the first step)
    torch::Tensor cross_k, cross_v;  // [B / cross_group, heads, N, head_dim]
  };

  int64_t batch_size() const;
  int64_t length() const { return length_; }  // tokens cached so far

  // Keeps rows `indices` ([B'] int64, any order, repeats allowed): beam reordering and expansion
  // (e.g. repeat_interleave(arange(B), beams) before the first step).
  void reorder(const torch::Tensor& indices);

  std::vector<Layer> layers;
  torch::Tensor key_mask;    // [B, T] float, 1 for tokens that may be attended to
  torch::Tensor cross_bias;  // [B / cross_group, 1, 1, N] additive cross-attention mask
  // Rows r .. r + cross_group - 1 share cross-attention row r / cross_group: a reorder that keeps
  // every row with its image (beam search, expansion to beams) copies no cross keys/values.
  int64_t cross_group = 1;
  int64_t length_ = 0;
};

// Grad-CAM's hook into one layer's cross-attention (TextTransformerImpl::forward). The probed layer
// computes its attention probabilities explicitly and keeps them, as a leaf requiring grad, in
// `probs` [B, heads, L, N]; every other layer runs the normal (fused) path.
struct AttentionProbe {
  int64_t layer = 0;   // which layer's cross-attention (0-based)
  torch::Tensor probs;  // out
};

// BertModel without pooler: `embeddings` (word, position, LayerNorm; no token types) and
// `encoder.layer.N`.
class TextTransformerImpl : public torch::nn::Module {
 public:
  // share: the text encoder whose embeddings / cross-attention / FFN (kBlip) or everything
  // (kShareAll) this transformer uses instead of owning them; nullptr or kSeparate: owns all.
  // Shared modules are registered only in their owner, so every parameter has one name.
  TextTransformerImpl(const TextConfig& config, int64_t cross_width,
                      const TextTransformerImpl* share = nullptr,
                      SharingMode sharing = SharingMode::kSeparate);

  // Full pass. ids [B, L] int64; mask [B, L] (1 = token, 0 = padding; undefined = all ones);
  // encoder_states [B, N, cross_width] and encoder_mask [B, N] are needed for kImageGrounded and
  // kDecoder (mask undefined = all ones). Returns hidden states [B, L, hidden].
  // probe (image-grounded modes only; may be null): keeps one layer's cross-attention map.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask, TextMode mode,
                        const torch::Tensor& encoder_states = {},
                        const torch::Tensor& encoder_mask = {},
                        AttentionProbe* probe = nullptr) const;

  // Incremental decoder: computes the cross-attention keys/values once.
  DecoderState start_decoding(const torch::Tensor& encoder_states,
                              const torch::Tensor& encoder_mask = {}) const;
  // Runs new tokens ids [B, T] (T >= 1, e.g. the prompt then one token per step) with causal
  // attention to the cached tokens, appends their keys/values to `state` and returns their hidden
  // states [B, T, hidden]. mask [B, T] marks padding among the new tokens (undefined = all ones).
  torch::Tensor forward_cached(const torch::Tensor& ids, const torch::Tensor& mask,
                               DecoderState& state) const;

  // embeddings: word + position (starting at `past_length`), LayerNorm.
  torch::Tensor embed(const torch::Tensor& ids, int64_t past_length = 0) const;

  const TextConfig& config() const { return config_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  const TextLayerImpl& layer(int64_t i) const { return *layers_.at(i); }

  torch::nn::Embedding word_embeddings{nullptr};      // embeddings.word_embeddings
  torch::nn::Embedding position_embeddings{nullptr};  // embeddings.position_embeddings
  torch::nn::LayerNorm embed_norm{nullptr};           // embeddings.LayerNorm

 private:
  TextConfig config_;
  std::vector<TextLayer> layers_;  // encoder.layer.N
};
TORCH_MODULE(TextTransformer);

// BertLMHeadModel: `bert` (a TextTransformer used in kDecoder mode) and the LM head
// `cls.predictions` (transform.dense, GELU, transform.LayerNorm, decoder, bias).
class TextDecoderImpl : public torch::nn::Module {
 public:
  // share: the text encoder to share with (see TextTransformerImpl), or nullptr.
  TextDecoderImpl(const TextConfig& config, int64_t cross_width,
                  const TextTransformerImpl* share = nullptr,
                  SharingMode sharing = SharingMode::kSeparate);

  // Logits [B, L, vocab] of a full causal pass (teacher forcing).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask,
                        const torch::Tensor& encoder_states,
                        const torch::Tensor& encoder_mask = {}) const;
  // LM head on hidden states [..., hidden] -> [..., vocab].
  torch::Tensor lm_head(const torch::Tensor& hidden) const;

  DecoderState start_decoding(const torch::Tensor& encoder_states,
                              const torch::Tensor& encoder_mask = {}) const {
    return bert->start_decoding(encoder_states, encoder_mask);
  }
  // Feeds ids [B, T] (T >= 1) and returns the next-token logits [B, vocab] after the last one.
  torch::Tensor decode_step(const torch::Tensor& ids, DecoderState& state,
                            const torch::Tensor& mask = {}) const;

  TextTransformer bert{nullptr};                   // bert.*
  torch::nn::Linear transform{nullptr};            // cls.predictions.transform.dense
  torch::nn::LayerNorm transform_norm{nullptr};    // cls.predictions.transform.LayerNorm
  torch::Tensor decoder_weight;  // cls.predictions.decoder.weight, or the word embeddings if tied
  torch::Tensor bias;            // cls.predictions.bias (== cls.predictions.decoder.bias)
};
TORCH_MODULE(TextDecoder);

}  // namespace capfilt::model
