// Grad-CAM's probe leaves the ITM pass as it was and yields maps with the structure the method
// implies: non-negative, zero on padding, per row independent of the batch, and in the last layer
// non-zero only for the first token (the only one whose attention reaches the ITM head there).

#include "model/gradcam.h"

#include <gtest/gtest.h>

namespace capfilt::model {
namespace {

BlipConfig small(int64_t layers) {
  BlipConfig c = preset("tiny");
  c.vision = VisionConfig{32, 8, 32, 1, 4, 64, 1e-6};  // 4 x 4 patches
  c.text.vocab_size = 40;
  c.text.hidden = 32;
  c.text.layers = layers;
  c.text.heads = 4;
  c.text.intermediate = 64;
  c.text.max_positions = 16;
  c.text.tokens = SpecialTokens{0, 1, 2, 38, 39};
  c.embed_dim = 16;
  c.components.text_decoder = false;
  return c;
}

struct Inputs {
  torch::Tensor images, ids, mask;
};

Inputs inputs(const Blip& model) {
  torch::NoGradGuard no_grad;
  return {model->encode_image(torch::randn({2, 3, 32, 32})),
          torch::tensor({{39, 5, 6, 7, 2}, {39, 8, 9, 2, 0}}),
          torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 1, 0}})};
}

TEST(GradCamTest, DefaultLayerIsLavissEighthOfTwelveAndNeverTheLast) {
  EXPECT_EQ(default_gradcam_layer(12), 7);
  EXPECT_EQ(default_gradcam_layer(24), 15);
  EXPECT_EQ(default_gradcam_layer(6), 3);
  EXPECT_EQ(default_gradcam_layer(4), 2);
  EXPECT_EQ(default_gradcam_layer(2), 0);
  EXPECT_EQ(default_gradcam_layer(1), 0);
}

TEST(GradCamTest, ProbedPassGivesTheNormalPassLogits) {
  torch::manual_seed(1);
  Blip model(small(3));
  model->eval();
  const Inputs in = inputs(model);
  torch::NoGradGuard no_grad;
  const torch::Tensor normal = model->itm_logits(in.images, in.ids, in.mask);
  for (int64_t layer = 0; layer < 3; ++layer) {
    AttentionProbe probe;
    probe.layer = layer;
    const torch::Tensor probed = model->itm_logits(in.images, in.ids, in.mask, &probe);
    EXPECT_LT((probed - normal).abs().max().item<double>(), 1e-5) << layer;
    ASSERT_EQ(probe.probs.sizes(), (std::vector<int64_t>{2, 4, 5, 17})) << layer;
    EXPECT_TRUE(probe.probs.requires_grad());
    EXPECT_LT((probe.probs.sum(-1) - 1).abs().max().item<double>(), 1e-5) << layer;
  }
  AttentionProbe missing;
  missing.layer = 3;
  EXPECT_THROW(model->itm_logits(in.images, in.ids, in.mask, &missing), std::exception);
}

TEST(GradCamTest, MapsAreNonNegativeZeroOnPaddingAndPerRow) {
  torch::manual_seed(2);
  Blip model(small(3));
  model->eval();
  const Inputs in = inputs(model);
  const GradCamMaps both = itm_gradcam(*model, in.images, in.ids, in.mask, 1);
  ASSERT_EQ(both.maps.sizes(), (std::vector<int64_t>{2, 5, 4, 4}));
  EXPECT_EQ(both.layer, 1);
  EXPECT_GE(both.maps.min().item<double>(), 0.0);
  EXPECT_EQ(both.maps[1][4].abs().max().item<double>(), 0.0);  // padding
  // Words get maps, and they differ across the patches (not a constant).
  for (int64_t t = 1; t < 4; ++t) {
    EXPECT_GT(both.maps[0][t].max().item<double>(), both.maps[0][t].min().item<double>()) << t;
  }
  const GradCamMaps first = itm_gradcam(*model, in.images.narrow(0, 0, 1), in.ids.narrow(0, 0, 1),
                                        in.mask.narrow(0, 0, 1), 1);
  EXPECT_LT((first.maps[0] - both.maps[0]).abs().max().item<double>(), 1e-6);
  torch::NoGradGuard no_grad;
  EXPECT_LT(
      (both.itm_logits - model->itm_logits(in.images, in.ids, in.mask)).abs().max().item<double>(),
      1e-5);
}

TEST(GradCamTest, InTheLastLayerOnlyTheFirstTokenHasAMap) {
  torch::manual_seed(3);
  Blip model(small(2));
  model->eval();
  const Inputs in = inputs(model);
  const GradCamMaps last = itm_gradcam(*model, in.images, in.ids, in.mask, 1);
  EXPECT_GT(last.maps.select(1, 0).abs().max().item<double>(), 0.0);
  EXPECT_EQ(last.maps.narrow(1, 1, 4).abs().max().item<double>(), 0.0);
  const GradCamMaps earlier = itm_gradcam(*model, in.images, in.ids, in.mask);  // default: 0
  EXPECT_EQ(earlier.layer, 0);
  EXPECT_GT(earlier.maps.narrow(1, 1, 3).abs().max().item<double>(), 0.0);
}

TEST(GradCamTest, WorksOnImagesEncodedInInferenceModeAndLeavesNoParameterGradients) {
  torch::manual_seed(4);
  Blip model(small(2));
  model->eval();
  Inputs in;
  {
    torch::InferenceMode guard;
    in = inputs(model);
  }
  const GradCamMaps maps = itm_gradcam(*model, in.images, in.ids, in.mask);
  EXPECT_GT(maps.maps.max().item<double>(), 0.0);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(GradCamTest, AModelWithoutItmHeadIsRefused) {
  BlipConfig c = small(2);
  c.components.itm_head = false;
  Blip model(c);
  const Inputs in = inputs(model);
  EXPECT_THROW(itm_gradcam(*model, in.images, in.ids, in.mask), std::exception);
}

}  // namespace
}  // namespace capfilt::model
