// AdamW groups, the warm-up + cosine schedule and gradient clipping.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/error.h"
#include "model/optimizer.h"

namespace capfilt::model {
namespace {

OptimizerConfig schedule() {
  OptimizerConfig c;
  c.peak_lr = 1e-3;
  c.warmup_start_lr = 1e-5;
  c.min_lr = 1e-5;
  c.warmup_steps = 10;
  c.total_steps = 110;
  return c;
}

TEST(Schedule, WarmsUpLinearlyThenFollowsACosineToTheFloor) {
  const OptimizerConfig c = schedule();
  EXPECT_DOUBLE_EQ(learning_rate_at(c, 0), 1e-5);
  EXPECT_NEAR(learning_rate_at(c, 5), 1e-5 + (1e-3 - 1e-5) * 0.5, 1e-15);
  EXPECT_NEAR(learning_rate_at(c, 10), 1e-3, 1e-15) << "end of warm-up is the peak";
  EXPECT_NEAR(learning_rate_at(c, 60), 1e-5 + (1e-3 - 1e-5) * 0.5, 1e-15) << "half-way down";
  EXPECT_NEAR(learning_rate_at(c, 35), 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + std::cos(M_PI / 4)),
              1e-15);
  EXPECT_NEAR(learning_rate_at(c, 110), 1e-5, 1e-15) << "the end is the floor";
  EXPECT_NEAR(learning_rate_at(c, 500), 1e-5, 1e-15) << "and it stays there";
  for (int64_t s = 11; s <= 110; ++s) EXPECT_LE(learning_rate_at(c, s), learning_rate_at(c, s - 1));
}

TEST(Schedule, NoWarmUpStartsAtThePeak) {
  OptimizerConfig c = schedule();
  c.warmup_steps = 0;
  EXPECT_NEAR(learning_rate_at(c, 0), 1e-3, 1e-15);
}

TEST(WeightDecay, SparesBiasesNormsEmbeddingsAndTemperature) {
  const OptimizerConfig c;
  const torch::Tensor matrix = torch::zeros({4, 4}), vector = torch::zeros({4});
  EXPECT_TRUE(uses_weight_decay("text_encoder.encoder.layer.0.attention.self.query.weight",
                                matrix, c));
  EXPECT_FALSE(uses_weight_decay("text_encoder.encoder.layer.0.attention.self.query.bias",
                                 vector, c));
  EXPECT_FALSE(uses_weight_decay("visual_encoder.norm.weight", vector, c));
  EXPECT_FALSE(uses_weight_decay("temp", torch::zeros({}), c));
  EXPECT_FALSE(uses_weight_decay("text_encoder.embeddings.word_embeddings.weight", matrix, c));
  EXPECT_FALSE(uses_weight_decay("visual_encoder.pos_embed", torch::zeros({1, 5, 4}), c));
  EXPECT_FALSE(uses_weight_decay("visual_encoder.cls_token", torch::zeros({1, 1, 4}), c));
  OptimizerConfig blip = c;
  blip.decay_everything = true;
  EXPECT_TRUE(uses_weight_decay("visual_encoder.norm.weight", vector, blip));
}

TEST(TrainingOptimizer, DecoupledDecayShrinksOnlyDecayedParametersAtTheScheduledRate) {
  OptimizerConfig c = schedule();
  c.weight_decay = 0.5;
  torch::Tensor w = torch::ones({3, 3}).requires_grad_(true);
  torch::Tensor b = torch::ones({3}).requires_grad_(true);
  TrainingOptimizer opt({{"layer.weight", w}, {"layer.bias", b}}, c);
  EXPECT_EQ(opt.decayed_tensors(), 1);
  EXPECT_EQ(opt.undecayed_tensors(), 1);
  // Zero gradients: Adam's update is 0, only the decoupled decay p *= (1 - lr * wd) acts.
  (w.sum() * 0.0 + b.sum() * 0.0).backward();
  opt.step();
  opt.zero_grad();
  (w.sum() * 0.0 + b.sum() * 0.0).backward();
  opt.step();
  const double expected = (1.0 - 1e-5 * 0.5) * (1.0 - learning_rate_at(c, 1) * 0.5);
  EXPECT_NEAR(w[0][0].item<double>(), expected, 1e-7);
  EXPECT_DOUBLE_EQ(b[0].item<double>(), 1.0);
  EXPECT_EQ(opt.steps_taken(), 2);
}

TEST(TrainingOptimizer, ClipsTheGradientNormAndReportsItBeforeClipping) {
  OptimizerConfig c = schedule();
  c.clip_norm = 1.0;
  torch::Tensor w = torch::zeros({4}).requires_grad_(true);
  TrainingOptimizer opt({{"w", w}}, c);
  (w * torch::tensor({3.0f, 4.0f, 0.0f, 0.0f})).sum().backward();  // gradient norm 5
  EXPECT_NEAR(opt.step(), 5.0, 1e-5);
  EXPECT_NEAR(w.grad().norm().item<double>(), 1.0, 1e-5);
  // Adam's first step moves each coordinate with a non-zero gradient by about -lr.
  EXPECT_NEAR(w[0].item<double>(), -1e-5, 1e-7);
  EXPECT_DOUBLE_EQ(w[2].item<double>(), 0.0);
}

TEST(TrainingOptimizer, RejectsAnImpossibleSchedule) {
  OptimizerConfig c = schedule();
  c.total_steps = 0;
  torch::Tensor w = torch::zeros({1}).requires_grad_(true);
  EXPECT_THROW(TrainingOptimizer({{"w", w}}, c), ModelError);
}

}  // namespace
}  // namespace capfilt::model
