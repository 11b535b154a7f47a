#include "model/scoring.h"

#include "model/error.h"

namespace capfilt::model {

Scorer::Scorer(Blip model, ItmFirstToken first_token)
    : model_(std::move(model)), first_token_(first_token) {}

ImageEncoding Scorer::encode_images(const torch::Tensor& pixels) const {
  torch::InferenceMode guard;
  ImageEncoding out;
  out.tokens = model_->encode_image(pixels);
  if (model_->has_projections()) out.embedding = model_->image_features(out.tokens);
  return out;
}

torch::Tensor Scorer::text_embeddings(const TextBatch& texts) const {
  torch::InferenceMode guard;
  return model_->text_features(texts.ids, texts.mask);
}

torch::Tensor Scorer::itm_logits(const ImageEncoding& images, const TextBatch& texts) const {
  torch::InferenceMode guard;
  if (images.tokens.size(0) != texts.ids.size(0)) {
    throw ModelError("ITM: " + std::to_string(images.tokens.size(0)) + " images for " +
                     std::to_string(texts.ids.size(0)) + " texts");
  }
  torch::Tensor ids = first_token_ == ItmFirstToken::kEnc
                          ? with_first_token(texts.ids, model_->config().text.tokens.enc)
                          : texts.ids;
  return model_->itm_logits(images.tokens, ids, texts.mask);
}

torch::Tensor Scorer::itm_probability(const ImageEncoding& images, const TextBatch& texts) const {
  torch::InferenceMode guard;
  return torch::softmax(itm_logits(images, texts), 1).select(1, 1);
}

torch::Tensor Scorer::pair_similarity(const torch::Tensor& image_emb, const torch::Tensor& text_emb) {
  return (image_emb * text_emb).sum(-1);
}

torch::Tensor Scorer::similarity_matrix(const torch::Tensor& image_emb,
                                        const torch::Tensor& text_emb) {
  return torch::matmul(image_emb, text_emb.t());
}

}  // namespace capfilt::model
