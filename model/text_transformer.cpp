#include "model/text_transformer.h"

#include <cmath>
#include <limits>

#include "model/attention.h"
#include "model/error.h"
#include "model/layer_ops.h"

namespace capfilt::model {
namespace {

// BERT initialisation: normal(0.02) weights, zero biases.
torch::nn::Linear make_linear(int64_t in, int64_t out) {
  torch::nn::Linear layer(in, out);
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0.0, 0.02);
  layer->bias.zero_();
  return layer;
}

torch::nn::Embedding make_embedding(int64_t count, int64_t width) {
  torch::nn::Embedding embedding(count, width);
  torch::NoGradGuard no_grad;
  embedding->weight.normal_(0.0, 0.02);
  return embedding;
}

// Float 0/1 mask [B, L] from an optional mask (undefined = all ones).
torch::Tensor keep_mask(const torch::Tensor& mask, int64_t b, int64_t l,
                        const torch::TensorOptions& options) {
  if (!mask.defined()) return torch::ones({b, l}, options);
  if (mask.dim() != 2 || mask.size(0) != b || mask.size(1) != l) {
    throw ModelError("text transformer: attention mask " + c10::str(mask.sizes()) +
                     " does not match the tokens [" + std::to_string(b) + ", " +
                     std::to_string(l) + "]");
  }
  return mask.to(options);
}

// Additive cross-attention mask [B, 1, 1, N]: (1 - m) * lowest float.
torch::Tensor cross_bias(const torch::Tensor& encoder_states, const torch::Tensor& encoder_mask) {
  const auto options = encoder_states.options();
  torch::Tensor m = keep_mask(encoder_mask, encoder_states.size(0), encoder_states.size(1), options);
  return ((1.0 - m) * std::numeric_limits<float>::lowest()).view({m.size(0), 1, 1, m.size(1)});
}

constexpr double kSelfMaskValue = -10000.0;

// Rows of encoder states that repeat the row before them (one image scored against its web and
// synthetic captions) need their cross-attention keys/values projected once. Returns the first
// row of each run of equal rows and, per row, its run; both undefined when no row repeats.
std::pair<torch::Tensor, torch::Tensor> repeated_rows(const torch::Tensor& states) {
  const int64_t b = states.size(0);
  std::vector<int64_t> firsts{0}, owner{0};
  for (int64_t i = 1; i < b; ++i) {
    if (!torch::equal(states[i], states[i - 1])) firsts.push_back(i);
    owner.push_back(static_cast<int64_t>(firsts.size()) - 1);
  }
  if (static_cast<int64_t>(firsts.size()) == b) return {};
  const auto options = torch::TensorOptions().dtype(torch::kLong);
  return {torch::tensor(firsts, options).to(states.device()),
          torch::tensor(owner, options).to(states.device())};
}

}  // namespace

// ---- BertAttention -----------------------------------------------------------------------------

BertAttentionImpl::BertAttentionImpl(int64_t hidden, int64_t kv_width, int64_t heads, double eps)
    : heads_(heads), eps_(eps) {
  auto self = register_module("self", std::make_shared<torch::nn::Module>());
  query = self->register_module("query", make_linear(hidden, hidden));
  key = self->register_module("key", make_linear(kv_width, hidden));
  value = self->register_module("value", make_linear(kv_width, hidden));
  auto output = register_module("output", std::make_shared<torch::nn::Module>());
  dense = output->register_module("dense", make_linear(hidden, hidden));
  layer_norm = output->register_module("LayerNorm", make_norm(hidden, eps));
}

std::pair<torch::Tensor, torch::Tensor> BertAttentionImpl::project_kv(
    const torch::Tensor& states) const {
  return {split_heads(linear(key, states), heads_), split_heads(linear(value, states), heads_)};
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& k,
                                         const torch::Tensor& v,
                                         const torch::Tensor& additive_mask, int64_t groups) const {
  torch::Tensor q = split_heads(linear(query, x), heads_);  // [B, H, L, D]
  torch::Tensor context;
  if (groups == 1) {
    context = merge_heads(attend(q, k, v, additive_mask));
  } else {
    // The `groups` rows sharing keys become one row with groups * L queries: [B/g, H, g*L, D].
    const int64_t b = q.size(0), h = q.size(1), l = q.size(2), d = q.size(3), c = b / groups;
    torch::Tensor grouped = q.view({c, groups, h, l, d}).transpose(1, 2).reshape({c, h, groups * l, d});
    torch::Tensor out = attend(grouped, k, v, additive_mask);
    out = out.view({c, h, groups, l, d}).transpose(1, 2).reshape({b, h, l, d});
    context = merge_heads(out);
  }
  return ::capfilt::model::layer_norm(layer_norm, linear(dense, context) + x, eps_);
}

torch::Tensor BertAttentionImpl::forward_probed(const torch::Tensor& x, const torch::Tensor& k,
                                                const torch::Tensor& v,
                                                const torch::Tensor& additive_mask,
                                                torch::Tensor* probs) const {
  torch::Tensor q = split_heads(linear(query, x), heads_);  // [B, H, L, D]
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(q.size(-1)));
  if (additive_mask.defined()) scores = scores + additive_mask;
  *probs = torch::softmax(scores, -1).detach().requires_grad_(true);
  torch::Tensor context = merge_heads(torch::matmul(*probs, v));
  return ::capfilt::model::layer_norm(layer_norm, linear(dense, context) + x, eps_);
}

// ---- TextLayer ---------------------------------------------------------------------------------

TextLayerImpl::TextLayerImpl(const TextConfig& c, int64_t cross_width, const TextLayerImpl* share,
                             SharingMode sharing)
    : eps_(c.layer_norm_eps) {
  const bool share_common = share != nullptr && sharing != SharingMode::kSeparate;
  const bool share_self = share != nullptr && sharing == SharingMode::kShareAll;
  if (share_self) {
    attention = share->attention;
  } else {
    attention = register_module("attention",
                                BertAttention(c.hidden, c.hidden, c.heads, c.layer_norm_eps));
  }
  if (share_common) {
    crossattention = share->crossattention;
    intermediate = share->intermediate;
    output = share->output;
    output_norm = share->output_norm;
    return;
  }
  crossattention = register_module(
      "crossattention", BertAttention(c.hidden, cross_width, c.heads, c.layer_norm_eps));
  auto inter = register_module("intermediate", std::make_shared<torch::nn::Module>());
  intermediate = inter->register_module("dense", make_linear(c.hidden, c.intermediate));
  auto out = register_module("output", std::make_shared<torch::nn::Module>());
  output = out->register_module("dense", make_linear(c.intermediate, c.hidden));
  output_norm = out->register_module("LayerNorm", make_norm(c.hidden, c.layer_norm_eps));
}

torch::Tensor TextLayerImpl::feed_forward(const torch::Tensor& x) const {
  torch::Tensor h = linear(output, torch::gelu(linear(intermediate, x)));
  return layer_norm(output_norm, h + x, eps_);
}

// ---- DecoderState ------------------------------------------------------------------------------

int64_t DecoderState::batch_size() const {
  return cross_bias.defined() ? cross_bias.size(0) * cross_group : 0;
}

void DecoderState::reorder(const torch::Tensor& indices) {
  torch::Tensor cpu = indices.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t rows = cpu.numel(), images = cross_bias.size(0);
  // Does every new row j stay with an image, as row j / group of `images` equal groups?
  const int64_t group = rows % images == 0 ? rows / images : 0;
  bool same_images = group > 0;
  bool identity = rows == batch_size();
  const int64_t* p = cpu.data_ptr<int64_t>();
  for (int64_t j = 0; j < rows; ++j) {
    same_images = same_images && p[j] / cross_group == j / group;
    identity = identity && p[j] == j;
  }
  if (identity) return;  // no row moves (e.g. a beam step that kept every beam)
  torch::Tensor idx = cpu.to(cross_bias.device());
  auto pick = [](torch::Tensor& t, const torch::Tensor& rows_index) {
    if (t.defined()) t = t.index_select(0, rows_index);
  };
  for (Layer& layer : layers) {
    pick(layer.self_k, idx);
    pick(layer.self_v, idx);
  }
  pick(key_mask, idx);
  if (same_images) {
    cross_group = group;
    return;
  }
  // Rows move between images: give every row its own copy of its image's keys/values.
  torch::Tensor image_rows = idx.div(cross_group, "floor");
  for (Layer& layer : layers) {
    pick(layer.cross_k, image_rows);
    pick(layer.cross_v, image_rows);
  }
  pick(cross_bias, image_rows);
  cross_group = 1;
}

// ---- TextTransformer ---------------------------------------------------------------------------

TextTransformerImpl::TextTransformerImpl(const TextConfig& c, int64_t cross_width,
                                         const TextTransformerImpl* share, SharingMode sharing)
    : config_(c) {
  const bool share_common = share != nullptr && sharing != SharingMode::kSeparate;
  if (share_common) {
    word_embeddings = share->word_embeddings;
    position_embeddings = share->position_embeddings;
    embed_norm = share->embed_norm;
  } else {
    auto emb = register_module("embeddings", std::make_shared<torch::nn::Module>());
    word_embeddings =
        emb->register_module("word_embeddings", make_embedding(c.vocab_size, c.hidden));
    position_embeddings =
        emb->register_module("position_embeddings", make_embedding(c.max_positions, c.hidden));
    embed_norm = emb->register_module("LayerNorm", make_norm(c.hidden, c.layer_norm_eps));
  }
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  auto list = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.layers; ++i) {
    const TextLayerImpl* partner = share_common ? &share->layer(i) : nullptr;
    TextLayer layer(c, cross_width, partner, sharing);
    list->push_back(layer);
    layers_.push_back(layer);
  }
}

torch::Tensor TextTransformerImpl::embed(const torch::Tensor& ids, int64_t past_length) const {
  if (ids.dim() != 2) {
    throw ModelError("text transformer: expected token ids [B, L], got " + c10::str(ids.sizes()));
  }
  const int64_t l = ids.size(1);
  if (past_length + l > config_.max_positions) {
    throw ModelError("text transformer: " + std::to_string(past_length + l) +
                     " tokens exceed the " + std::to_string(config_.max_positions) +
                     " positions of the model");
  }
  torch::Tensor positions =
      torch::arange(past_length, past_length + l, ids.options().dtype(torch::kLong));
  torch::Tensor x = torch::embedding(word_embeddings->weight, ids.to(torch::kLong)) +
                    torch::embedding(position_embeddings->weight, positions).unsqueeze(0);
  return layer_norm(embed_norm, x, config_.layer_norm_eps);
}

torch::Tensor TextTransformerImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask,
                                           TextMode mode, const torch::Tensor& encoder_states,
                                           const torch::Tensor& encoder_mask,
                                           AttentionProbe* probe) const {
  if (probe != nullptr && (mode == TextMode::kUnimodal || probe->layer < 0 ||
                           probe->layer >= num_layers())) {
    throw ModelError("text transformer: no cross-attention layer " +
                     std::to_string(probe ? probe->layer : 0) + " to probe (the model has " +
                     std::to_string(num_layers()) + ")");
  }
  torch::Tensor x = embed(ids);
  const int64_t b = x.size(0), l = x.size(1);
  torch::Tensor keep = keep_mask(mask, b, l, x.options()).view({b, 1, 1, l});
  if (mode == TextMode::kDecoder) keep = keep * torch::ones({l, l}, x.options()).tril();
  torch::Tensor self_bias = (1.0 - keep) * kSelfMaskValue;
  torch::Tensor cross;
  if (mode != TextMode::kUnimodal) {
    if (!encoder_states.defined() || encoder_states.dim() != 3 || encoder_states.size(0) != b) {
      throw ModelError("text transformer: image-grounded modes need encoder states [B, N, W] "
                       "with B = " + std::to_string(b));
    }
    cross = cross_bias(encoder_states, encoder_mask);
  }
  torch::Tensor firsts, owner;
  if (mode != TextMode::kUnimodal) std::tie(firsts, owner) = repeated_rows(encoder_states);
  const torch::Tensor distinct =
      firsts.defined() ? encoder_states.index_select(0, firsts) : encoder_states;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const TextLayer& layer = layers_[i];
    const BertAttentionImpl& self = *layer->attention;
    auto [k, v] = self.project_kv(x);
    x = self.forward(x, k, v, self_bias);
    if (mode != TextMode::kUnimodal) {
      const BertAttentionImpl& xattn = *layer->crossattention;
      auto [ck, cv] = xattn.project_kv(distinct);
      if (owner.defined()) {
        ck = ck.index_select(0, owner);
        cv = cv.index_select(0, owner);
      }
      if (probe != nullptr && probe->layer == static_cast<int64_t>(i)) {
        x = xattn.forward_probed(x, ck, cv, cross, &probe->probs);
      } else {
        x = xattn.forward(x, ck, cv, cross);
      }
    }
    x = layer->feed_forward(x);
  }
  return x;
}

DecoderState TextTransformerImpl::start_decoding(const torch::Tensor& encoder_states,
                                                 const torch::Tensor& encoder_mask) const {
  if (!encoder_states.defined() || encoder_states.dim() != 3) {
    throw ModelError("text decoder: expected encoder states [B, N, W]");
  }
  DecoderState state;
  state.cross_bias = cross_bias(encoder_states, encoder_mask);
  state.key_mask = torch::zeros({encoder_states.size(0), 0}, encoder_states.options());
  for (const TextLayer& layer : layers_) {
    DecoderState::Layer cache;
    std::tie(cache.cross_k, cache.cross_v) = layer->crossattention->project_kv(encoder_states);
    state.layers.push_back(std::move(cache));
  }
  return state;
}

torch::Tensor TextTransformerImpl::forward_cached(const torch::Tensor& ids,
                                                  const torch::Tensor& mask,
                                                  DecoderState& state) const {
  if (state.layers.size() != layers_.size()) {
    throw ModelError("text decoder: the decoding state belongs to another model");
  }
  torch::Tensor x = embed(ids, state.length_);
  const int64_t b = x.size(0), t = x.size(1), past = state.length_;
  if (b != state.batch_size()) {
    throw ModelError("text decoder: " + std::to_string(b) + " rows of tokens for a state of " +
                     std::to_string(state.batch_size()) + " rows");
  }
  torch::Tensor all_keys = torch::cat({state.key_mask, keep_mask(mask, b, t, x.options())}, 1);
  // New token i sees every cached token and new tokens <= i.
  torch::Tensor causal = torch::ones({t, past + t}, x.options()).tril(past);
  torch::Tensor keep = all_keys.view({b, 1, 1, past + t}) * causal;
  torch::Tensor self_bias = (1.0 - keep) * kSelfMaskValue;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const TextLayer& layer = layers_[i];
    DecoderState::Layer& cache = state.layers[i];
    const BertAttentionImpl& self = *layer->attention;
    auto [k, v] = self.project_kv(x);
    cache.self_k = cache.self_k.defined() ? torch::cat({cache.self_k, k}, 2) : k;
    cache.self_v = cache.self_v.defined() ? torch::cat({cache.self_v, v}, 2) : v;
    x = self.forward(x, cache.self_k, cache.self_v, self_bias);
    x = layer->crossattention->forward(x, cache.cross_k, cache.cross_v, state.cross_bias,
                                       state.cross_group);
    x = layer->feed_forward(x);
  }
  state.key_mask = all_keys;
  state.length_ += t;
  return x;
}

// ---- TextDecoder -------------------------------------------------------------------------------

TextDecoderImpl::TextDecoderImpl(const TextConfig& c, int64_t cross_width,
                                 const TextTransformerImpl* share, SharingMode sharing) {
  bert = register_module("bert", TextTransformer(c, cross_width, share, sharing));
  auto cls = register_module("cls", std::make_shared<torch::nn::Module>());
  auto predictions = cls->register_module("predictions", std::make_shared<torch::nn::Module>());
  auto tr = predictions->register_module("transform", std::make_shared<torch::nn::Module>());
  transform = tr->register_module("dense", make_linear(c.hidden, c.hidden));
  transform_norm = tr->register_module("LayerNorm", make_norm(c.hidden, c.layer_norm_eps));
  bias = predictions->register_parameter("bias", torch::zeros({c.vocab_size}));
  if (c.tie_word_embeddings) {
    decoder_weight = bert->word_embeddings->weight;
  } else {
    auto dec = predictions->register_module("decoder", std::make_shared<torch::nn::Module>());
    torch::NoGradGuard no_grad;
    decoder_weight = dec->register_parameter("weight", torch::randn({c.vocab_size, c.hidden}) * 0.02);
  }
}

torch::Tensor TextDecoderImpl::lm_head(const torch::Tensor& hidden) const {
  const double eps = bert->config().layer_norm_eps;
  torch::Tensor h = torch::gelu(linear(transform, hidden));
  h = layer_norm(transform_norm, h, eps);
  if (h.dim() == 2 && h.size(0) == 1) {
    // One row (a decoding step at batch 1): a matrix-vector product reads the vocabulary matrix
    // once, where GEMM would first pack a copy of all of it.
    return torch::addmv(bias, decoder_weight, h.select(0, 0)).unsqueeze(0);
  }
  return torch::linear(h, decoder_weight, bias);
}

torch::Tensor TextDecoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask,
                                       const torch::Tensor& encoder_states,
                                       const torch::Tensor& encoder_mask) const {
  return lm_head(bert->forward(ids, mask, TextMode::kDecoder, encoder_states, encoder_mask));
}

torch::Tensor TextDecoderImpl::decode_step(const torch::Tensor& ids, DecoderState& state,
                                           const torch::Tensor& mask) const {
  torch::Tensor hidden = bert->forward_cached(ids, mask, state);
  return lm_head(hidden.select(1, hidden.size(1) - 1));
}

}  // namespace capfilt::model
