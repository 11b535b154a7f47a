#include <gtest/gtest.h>

#include "model/error.h"
#include "model/vision_transformer.h"

namespace capfilt::model {
namespace {

VisionConfig small() { return VisionConfig{32, 8, 32, 2, 4, 64, 1e-6}; }

TEST(VisionTransformerTest, OutputsClsPlusPatchTokens) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  VisionTransformer vit(small());
  torch::Tensor out = vit->forward(torch::randn({2, 3, 32, 32}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 17, 32}));
  // The final LayerNorm applies to every token: zero mean per token before its affine part.
  torch::Tensor normed = (out - vit->norm->bias) / vit->norm->weight;
  EXPECT_LT(normed.mean(-1).abs().max().item<double>(), 1e-4);
}

TEST(VisionTransformerTest, ImagesAreIndependentInABatch) {
  torch::NoGradGuard no_grad;
  VisionTransformer vit(small());
  torch::Tensor x = torch::randn({2, 3, 32, 32});
  torch::Tensor both = vit->forward(x);
  torch::Tensor one = vit->forward(x.slice(0, 1, 2));
  EXPECT_LT((both.slice(0, 1, 2) - one).abs().max().item<double>(), 1e-5);
}

TEST(VisionTransformerTest, PositionEmbeddingsInterpolateToAnotherSize) {
  torch::NoGradGuard no_grad;
  torch::Tensor pos = torch::randn({1, 1 + 16, 8});
  torch::Tensor same = interpolate_pos_embed(pos, 16);
  EXPECT_TRUE(torch::equal(same, pos));
  torch::Tensor bigger = interpolate_pos_embed(pos, 64);
  EXPECT_EQ(bigger.sizes(), (std::vector<int64_t>{1, 65, 8}));
  EXPECT_TRUE(torch::equal(bigger.slice(1, 0, 1), pos.slice(1, 0, 1)));  // [CLS] kept
  // A constant grid stays constant under bicubic resampling.
  torch::Tensor flat = torch::ones({1, 17, 8});
  EXPECT_LT((interpolate_pos_embed(flat, 36) - 1).abs().max().item<double>(), 1e-5);
  EXPECT_THROW(interpolate_pos_embed(pos, 15), ModelError);

  VisionTransformer vit(small());
  EXPECT_EQ(vit->forward(torch::randn({1, 3, 64, 64})).size(1), 65);
}

TEST(VisionTransformerTest, BadPixelsAreAnError) {
  VisionTransformer vit(small());
  EXPECT_THROW(vit->forward(torch::randn({1, 3, 30, 32})), ModelError);
  EXPECT_THROW(vit->forward(torch::randn({3, 32, 32})), ModelError);
  EXPECT_THROW(vit->forward(torch::randn({1, 3, 0, 0})), ModelError);
}

TEST(VisionTransformerTest, ParameterNamesFollowSalesforce) {
  VisionTransformer vit(small());
  auto params = vit->named_parameters();
  for (const char* name : {"cls_token", "pos_embed", "patch_embed.proj.weight",
                           "blocks.1.attn.qkv.weight", "blocks.0.attn.proj.bias",
                           "blocks.0.mlp.fc2.weight", "blocks.0.norm1.weight", "norm.bias"}) {
    EXPECT_NE(params.find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace capfilt::model
