#pragma once
// Filter scores for batches of (image, text): ITM match probability, ITC cosine similarity and the
// normalised embeddings used for retrieval. Everything runs under torch::InferenceMode; the image
// encoder output is computed once and reused by every text scored against it.
// Model-internal header (includes Torch).

#include <torch/torch.h>

#include "model/blip.h"

namespace capfilt::model {

// Encoded images: the ViT tokens (for ITM) and the normalised ITC embedding (for similarity).
struct ImageEncoding {
  torch::Tensor tokens;     // [B, 1 + patches, vision hidden]
  torch::Tensor embedding;  // [B, embed_dim], L2-normalised (undefined without projections)
};

// Tokenised texts as the tokenizer produces them ([CLS] first, padded).
struct TextBatch {
  torch::Tensor ids;   // [B, L] int64
  torch::Tensor mask;  // [B, L] int64 or float, 1 = token
};

enum class ItmFirstToken {
  kEnc,  // replace [CLS] by [ENC], as BLIP pre-training and retrieval do
  kCls,  // keep [CLS], as BLIP's ITM model and Hugging Face's BlipForImageTextRetrieval do
};

// The model must outlive the scorer. Methods are thread-compatible (no state of their own).
class Scorer {
 public:
  explicit Scorer(Blip model, ItmFirstToken first_token = ItmFirstToken::kEnc);

  ImageEncoding encode_images(const torch::Tensor& pixels) const;
  // [B, embed_dim] L2-normalised text embeddings (unimodal encoder).
  torch::Tensor text_embeddings(const TextBatch& texts) const;
  // Match probability [B] of image i with text i (softmax of the ITM logits, column 1).
  torch::Tensor itm_probability(const ImageEncoding& images, const TextBatch& texts) const;
  // ITM logits [B, 2] of image i with text i.
  torch::Tensor itm_logits(const ImageEncoding& images, const TextBatch& texts) const;
  // Cosine similarity: of pair i (both [B, D]) -> [B]; all pairs: [Bi, D] x [Bt, D] -> [Bi, Bt].
  static torch::Tensor pair_similarity(const torch::Tensor& image_emb, const torch::Tensor& text_emb);
  static torch::Tensor similarity_matrix(const torch::Tensor& image_emb,
                                         const torch::Tensor& text_emb);

  const Blip& model() const { return model_; }

 private:
  Blip model_;
  ItmFirstToken first_token_;
};

}  // namespace capfilt::model
