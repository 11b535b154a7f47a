#include <gtest/gtest.h>

#include "model/scoring.h"

namespace capfilt::model {
namespace {

BlipConfig small() {
  BlipConfig c = preset("tiny");
  c.vision = VisionConfig{32, 16, 32, 1, 4, 64, 1e-6};
  c.text.vocab_size = 40;
  c.text.hidden = 32;
  c.text.layers = 1;
  c.text.heads = 4;
  c.text.intermediate = 64;
  c.text.max_positions = 16;
  c.text.tokens = SpecialTokens{0, 1, 2, 38, 39};
  c.embed_dim = 16;
  c.components.text_decoder = false;
  return c;
}

TEST(ScoringTest, ItmProbabilityIsTheSoftmaxOfTheEncTokenLogits) {
  torch::manual_seed(3);
  Blip model(small());
  Scorer scorer(model);
  ImageEncoding images = scorer.encode_images(torch::randn({2, 3, 32, 32}));
  TextBatch texts{torch::tensor({{2, 5, 6, 7}, {2, 8, 9, 0}}), torch::tensor({{1, 1, 1, 1}, {1, 1, 1, 0}})};
  torch::Tensor p = scorer.itm_probability(images, texts);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{2}));
  EXPECT_TRUE((p >= 0).all().item<bool>() && (p <= 1).all().item<bool>());
  torch::NoGradGuard no_grad;
  torch::Tensor logits = model->itm_logits(images.tokens, with_first_token(texts.ids, 39), texts.mask);
  EXPECT_LT((torch::softmax(logits, 1).select(1, 1) - p).abs().max().item<double>(), 1e-6);
  // [CLS] and [ENC] give different scores.
  Scorer cls(model, ItmFirstToken::kCls);
  EXPECT_GT((cls.itm_probability(images, texts) - p).abs().max().item<double>(), 1e-6);
}

TEST(ScoringTest, EmbeddingsAreNormalisedAndSimilaritiesConsistent) {
  Blip model(small());
  Scorer scorer(model);
  ImageEncoding images = scorer.encode_images(torch::randn({3, 3, 32, 32}));
  torch::Tensor t = scorer.text_embeddings({torch::randint(3, 38, {3, 5}), {}});
  EXPECT_EQ(images.embedding.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_LT((images.embedding.norm(2, -1) - 1).abs().max().item<double>(), 1e-5);
  EXPECT_LT((t.norm(2, -1) - 1).abs().max().item<double>(), 1e-5);
  torch::Tensor matrix = Scorer::similarity_matrix(images.embedding, t);
  EXPECT_EQ(matrix.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_LT((matrix.diagonal() - Scorer::pair_similarity(images.embedding, t)).abs().max().item<double>(),
            1e-6);
  EXPECT_LE(matrix.abs().max().item<double>(), 1.0 + 1e-6);
}

TEST(ScoringTest, MismatchedBatchIsAnError) {
  Blip model(small());
  Scorer scorer(model);
  ImageEncoding images = scorer.encode_images(torch::randn({2, 3, 32, 32}));
  EXPECT_THROW(scorer.itm_probability(images, {torch::randint(3, 38, {3, 5}), {}}), std::exception);
}

}  // namespace
}  // namespace capfilt::model
