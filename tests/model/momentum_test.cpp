// Momentum encoders (EMA of parameters) and the ITC feature queue.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/error.h"
#include "model/momentum.h"

namespace capfilt::model {
namespace {

struct TwoLayers : torch::nn::Module {
  explicit TwoLayers(int64_t width) {
    a = register_module("a", torch::nn::Linear(3, width));
    b = register_module("b", torch::nn::Linear(width, 2));
  }
  torch::nn::Linear a{nullptr}, b{nullptr};
};

struct OneLayer : torch::nn::Module {
  OneLayer() { a = register_module("a", torch::nn::Linear(3, 4)); }
  torch::nn::Linear a{nullptr};
};

TEST(Ema, UpdateIsMTimesMomentumPlusOneMinusMTimesOnline) {
  torch::manual_seed(0);
  TwoLayers online(4), momentum(4);
  const ParameterPairs pairs = pair_parameters(online, momentum);
  ASSERT_EQ(pairs.names.size(), 4u);
  const torch::Tensor before = momentum.a->weight.detach().clone();
  ema_update(pairs, 0.9);
  const torch::Tensor expected = 0.9 * before + 0.1 * online.a->weight.detach();
  EXPECT_TRUE(torch::allclose(momentum.a->weight, expected, 1e-6, 1e-7));
  // Hand value for one element.
  const float m0 = before[0][0].item<float>(), o0 = online.a->weight[0][0].item<float>();
  EXPECT_NEAR(momentum.a->weight[0][0].item<float>(), 0.9f * m0 + 0.1f * o0, 1e-6);
  EXPECT_FALSE(momentum.a->weight.grad().defined());
}

TEST(Ema, RepeatedUpdatesConvergeToAFixedOnlineModel) {
  TwoLayers online(4), momentum(4);
  const ParameterPairs pairs = pair_parameters(online, momentum);
  const torch::Tensor gap0 = (momentum.b->bias - online.b->bias).detach().clone();
  for (int i = 0; i < 10; ++i) ema_update(pairs, 0.5);
  // The gap shrinks by m each update: m^10.
  EXPECT_TRUE(torch::allclose((momentum.b->bias - online.b->bias).detach(),
                              gap0 * std::pow(0.5, 10), 1e-6, 1e-7));
  copy_parameters(pairs);
  EXPECT_TRUE(torch::equal(momentum.a->weight, online.a->weight));
}

TEST(Ema, MomentumModelMayBeASubsetButNamesAndShapesMustMatch) {
  TwoLayers online(4);
  OneLayer subset;
  EXPECT_EQ(pair_parameters(online, subset).names.size(), 2u);
  TwoLayers wider(5);
  EXPECT_THROW(pair_parameters(online, wider), ModelError);
  EXPECT_THROW(pair_parameters(subset, online), ModelError);  // online lacks b.*
  EXPECT_EQ(pair_parameters(subset, online, {"b.weight", "b.bias"}).names.size(), 0u + 2u);
}

TEST(FeatureQueue, StartsWithUnitColumnsThatAreNobodysPositive) {
  FeatureQueue queue(8, 6);
  EXPECT_EQ(queue.image_queue().sizes(), torch::IntArrayRef({8, 6}));
  EXPECT_TRUE(torch::allclose(queue.text_queue().norm(2, 0), torch::ones({6}), 1e-5, 1e-6));
  EXPECT_TRUE(queue.ids().eq(-100).all().item<bool>());
}

TEST(FeatureQueue, EnqueueWritesColumnsAtThePointerAndWrapsAround) {
  FeatureQueue queue(2, 5);
  auto rows = [](float start, int64_t n) {
    return torch::arange(start, start + n).view({-1, 1}).repeat({1, 2});
  };
  queue.enqueue(rows(1, 3), -rows(1, 3), torch::tensor({1L, 2L, 3L}));
  EXPECT_EQ(queue.pointer(), 3);
  queue.enqueue(rows(4, 3), -rows(4, 3), torch::tensor({4L, 5L, 6L}));  // 4, 5 at 3..4; 6 at 0
  EXPECT_EQ(queue.pointer(), 1);
  const std::vector<int64_t> ids = {6, 2, 3, 4, 5};
  for (int64_t j = 0; j < 5; ++j) {
    EXPECT_EQ(queue.ids()[j].item<int64_t>(), ids[j]);
    EXPECT_FLOAT_EQ(queue.image_queue()[0][j].item<float>(), static_cast<float>(ids[j]));
    EXPECT_FLOAT_EQ(queue.text_queue()[1][j].item<float>(), -static_cast<float>(ids[j]));
  }
  // A batch larger than the queue keeps its newest rows.
  queue.enqueue(rows(10, 7), rows(10, 7), torch::arange(10, 17));
  std::vector<int64_t> kept;
  for (int64_t j = 0; j < 5; ++j) kept.push_back(queue.ids()[j].item<int64_t>());
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, (std::vector<int64_t>{12, 13, 14, 15, 16}));
}

}  // namespace
}  // namespace capfilt::model
