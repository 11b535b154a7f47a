// The pre-training losses against hand computations on small cases.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "model/error.h"
#include "model/losses.h"

namespace capfilt::model {
namespace {

double hand_log_softmax(const std::vector<double>& row, size_t j) {
  double denom = 0.0;
  for (double v : row) denom += std::exp(v);
  return row[j] - std::log(denom);
}

TEST(LmLoss, LabelSmoothingEqualsHandComputation) {
  // One sequence, 4 positions, vocabulary of 3; labels [DEC, 2, 0, pad]: the last target ignored.
  const std::vector<std::vector<double>> logits = {
      {1.0, 2.0, 0.5}, {0.3, -1.0, 2.0}, {0.0, 0.0, 1.0}, {5.0, -5.0, 0.0}};
  torch::Tensor logits_t = torch::tensor({1.0, 2.0, 0.5, 0.3, -1.0, 2.0, 0.0, 0.0, 1.0, 5.0, -5.0,
                                          0.0}, torch::kDouble).view({1, 4, 3});
  const torch::Tensor labels = torch::tensor({7L, 2L, 0L, kIgnoreIndex}).view({1, 4});
  const double eps = 0.1;
  // Position t predicts labels[t + 1]: (0 -> 2), (1 -> 0); position 2 -> ignored; 3 has no target.
  double expected = 0.0;
  const std::vector<std::pair<int, int>> scored = {{0, 2}, {1, 0}};
  for (const auto& [pos, target] : scored) {
    double uniform = 0.0;
    for (size_t c = 0; c < 3; ++c) uniform -= hand_log_softmax(logits[pos], c) / 3.0;
    expected += (1.0 - eps) * -hand_log_softmax(logits[pos], target) + eps * uniform;
  }
  expected /= 2.0;
  EXPECT_NEAR(lm_loss(logits_t, labels, eps).item<double>(), expected, 1e-9);

  // Without smoothing it is the plain negative log-likelihood.
  const double nll = (-hand_log_softmax(logits[0], 2) - hand_log_softmax(logits[1], 0)) / 2.0;
  EXPECT_NEAR(lm_loss(logits_t, labels, 0.0).item<double>(), nll, 1e-9);
}

TEST(LmLoss, IgnoredPositionsDoNotContribute) {
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({2, 5, 11}, torch::kDouble);
  const torch::Tensor labels =
      torch::tensor({9L, 3L, 4L, kIgnoreIndex, kIgnoreIndex, 9L, kIgnoreIndex, 1L, 2L, 6L})
          .view({2, 5});
  const double before = lm_loss(logits, labels, 0.1).item<double>();
  // Logits at positions whose next target is ignored (and the last position) do not matter.
  torch::Tensor changed = logits.clone();
  changed.index_put_({0, 2}, torch::randn({11}, torch::kDouble) * 10);
  changed.index_put_({0, 4}, torch::randn({11}, torch::kDouble) * 10);
  changed.index_put_({1, 0}, torch::randn({11}, torch::kDouble) * 10);
  EXPECT_NEAR(lm_loss(changed, labels, 0.1).item<double>(), before, 1e-12);
  // A scored position does.
  changed.index_put_({0, 0}, torch::randn({11}, torch::kDouble) * 10);
  EXPECT_GT(std::abs(lm_loss(changed, labels, 0.1).item<double>() - before), 1e-6);
}

TEST(LmLabels, MasksPadAndPrompt) {
  const torch::Tensor ids = torch::tensor({30522L, 1037L, 4937L, 2003L, 0L, 0L}).view({1, 6});
  const torch::Tensor labels = lm_labels(ids, /*pad_id=*/0, /*prompt_length=*/3);
  const std::vector<int64_t> expected = {kIgnoreIndex, kIgnoreIndex, kIgnoreIndex, 2003,
                                         kIgnoreIndex, kIgnoreIndex};
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(labels[0][i].item<int64_t>(), expected[i]) << i;
  EXPECT_EQ(ids[0][1].item<int64_t>(), 1037) << "the input must not be modified";
}

TEST(ItcTargets, SameImageDuplicatesShareTheHardTarget) {
  const torch::Tensor ids = torch::tensor({5L, 7L, 5L});
  const torch::Tensor cols = torch::tensor({5L, 7L, 5L, -100L, 7L});
  const torch::Tensor t = same_image_targets(ids, cols);
  const std::vector<std::vector<double>> expected = {
      {0.5, 0, 0.5, 0, 0}, {0, 0.5, 0, 0, 0.5}, {0.5, 0, 0.5, 0, 0}};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 5; ++j) EXPECT_FLOAT_EQ(t[i][j].item<float>(), expected[i][j]);
  }
}

TEST(ItcTargets, SoftTargetsMixMomentumSoftmaxAndHardTargets) {
  const torch::Tensor m_logits = torch::tensor({{2.0, 0.0, -1.0}}, torch::kDouble);
  const torch::Tensor hard = torch::tensor({{1.0, 0.0, 0.0}}, torch::kDouble);
  const torch::Tensor q = itc_soft_targets(m_logits, hard, 0.4);
  const double z = std::exp(2.0) + 1.0 + std::exp(-1.0);
  EXPECT_NEAR(q[0][0].item<double>(), 0.4 * std::exp(2.0) / z + 0.6, 1e-12);
  EXPECT_NEAR(q[0][1].item<double>(), 0.4 * 1.0 / z, 1e-12);
  EXPECT_NEAR(q[0][2].item<double>(), 0.4 * std::exp(-1.0) / z, 1e-12);
  EXPECT_NEAR(q.sum().item<double>(), 1.0, 1e-12);
}

TEST(ItcLoss, EqualsHandComputationWithQueue) {
  torch::manual_seed(1);
  const int64_t b = 3, d = 4, q = 2;
  auto unit = [](torch::Tensor x) { return x / x.norm(2, -1, true); };
  ItcInputs in;
  in.image_feat = unit(torch::randn({b, d}, torch::kDouble)).requires_grad_(true);
  in.text_feat = unit(torch::randn({b, d}, torch::kDouble)).requires_grad_(true);
  in.image_feat_m = unit(torch::randn({b, d}, torch::kDouble));
  in.text_feat_m = unit(torch::randn({b, d}, torch::kDouble));
  in.image_queue = unit(torch::randn({q, d}, torch::kDouble)).t().contiguous();
  in.text_queue = unit(torch::randn({q, d}, torch::kDouble)).t().contiguous();
  in.ids = torch::tensor({10L, 11L, 10L});
  in.queue_ids = torch::tensor({11L, -100L});
  in.temperature = torch::tensor(0.07, torch::kDouble).requires_grad_(true);
  in.alpha = 0.4;
  const double loss = itc_loss(in).item<double>();

  auto a = [](const torch::Tensor& t, int64_t i, int64_t j) { return t[i][j].item<double>(); };
  const std::vector<int64_t> all_ids = {10, 11, 10, 11, -100};
  // Columns: batch momentum features then the queue.
  auto column = [&](bool image, int64_t j, int64_t k) {
    if (j < b) return a(image ? in.image_feat_m : in.text_feat_m, j, k);
    return a(image ? in.image_queue : in.text_queue, k, j - b);
  };
  double total = 0.0;
  for (int dir = 0; dir < 2; ++dir) {
    const bool i2t = dir == 0;
    const torch::Tensor& online = i2t ? in.image_feat : in.text_feat;
    const torch::Tensor& mom = i2t ? in.image_feat_m : in.text_feat_m;
    for (int64_t i = 0; i < b; ++i) {
      std::vector<double> s(b + q), sm(b + q);
      for (int64_t j = 0; j < b + q; ++j) {
        s[j] = sm[j] = 0.0;
        for (int64_t k = 0; k < d; ++k) {
          s[j] += a(online, i, k) * column(/*image=*/!i2t, j, k);
          sm[j] += a(mom, i, k) * column(!i2t, j, k);
        }
        s[j] /= 0.07;
        sm[j] /= 0.07;
      }
      int n_pos = 0;
      for (int64_t j = 0; j < b + q; ++j) n_pos += all_ids[j] == all_ids[i];
      double h = 0.0;
      for (int64_t j = 0; j < b + q; ++j) {
        const double hard = all_ids[j] == all_ids[i] ? 1.0 / n_pos : 0.0;
        const double target = 0.4 * std::exp(hand_log_softmax(sm, j)) + 0.6 * hard;
        h -= target * hand_log_softmax(s, j);
      }
      total += h / b;
    }
  }
  EXPECT_NEAR(loss, total / 2.0, 1e-9);
}

TEST(ItcLoss, GradientReachesOnlineFeaturesAndTemperature) {
  ItcInputs in;
  in.image_feat = torch::randn({2, 3}).requires_grad_(true);
  in.text_feat = torch::randn({2, 3}).requires_grad_(true);
  in.image_feat_m = torch::randn({2, 3}).requires_grad_(true);
  in.text_feat_m = torch::randn({2, 3}).requires_grad_(true);
  in.image_queue = torch::zeros({3, 0});
  in.text_queue = torch::zeros({3, 0});
  in.ids = torch::tensor({0L, 1L});
  in.queue_ids = torch::zeros({0}, torch::kLong);
  in.temperature = torch::tensor(0.07).requires_grad_(true);
  itc_loss(in).backward();
  EXPECT_TRUE(in.image_feat.grad().defined());
  EXPECT_TRUE(in.temperature.grad().defined());
  EXPECT_FALSE(in.image_feat_m.grad().defined()) << "momentum targets must not be trained";
}

TEST(HardNegatives, NeverPickThePositiveOrASameImageDuplicate) {
  torch::manual_seed(2);
  auto gen = at::detail::createCPUGenerator(1234);
  const int64_t b = 8;
  for (int trial = 0; trial < 2000; ++trial) {
    // Few distinct images so duplicates are common; similarities that favour the positives hugely.
    const torch::Tensor ids = torch::randint(0, 4, {b}, torch::kLong);
    if (ids.eq(ids[0]).all().item<bool>()) continue;
    const torch::Tensor same = ids.view({-1, 1}).eq(ids.view({1, -1}));
    const double scale = (trial % 3 == 0) ? 1000.0 : 5.0;
    torch::Tensor sim = torch::randn({b, b}) * scale + same.to(torch::kFloat) * scale;
    const HardNegatives neg = sample_hard_negatives(sim, sim.t().contiguous(), ids, gen);
    ASSERT_EQ(neg.text_for_image.sizes(), torch::IntArrayRef({b}));
    for (int64_t i = 0; i < b; ++i) {
      const int64_t t = neg.text_for_image[i].item<int64_t>();
      const int64_t v = neg.image_for_text[i].item<int64_t>();
      ASSERT_NE(ids[t].item<int64_t>(), ids[i].item<int64_t>()) << "trial " << trial;
      ASSERT_NE(ids[v].item<int64_t>(), ids[i].item<int64_t>()) << "trial " << trial;
    }
  }
}

TEST(HardNegatives, PreferTheMostSimilarWrongPair) {
  auto gen = at::detail::createCPUGenerator(7);
  const torch::Tensor ids = torch::tensor({0L, 1L, 2L, 3L});
  torch::Tensor sim = torch::zeros({4, 4});
  sim.index_put_({0, 3}, 5.0);  // image 0 looks a lot like text 3
  int picked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    picked += sample_hard_negatives(sim, sim, ids, gen).text_for_image[0].item<int64_t>() == 3;
  }
  EXPECT_GT(picked, 180);  // softmax weight of text 3 is e^5 / (e^5 + 2) ≈ 0.99
}

TEST(HardNegatives, ABatchOfOneImageHasNoNegativeAndSaysSo) {
  const torch::Tensor ids = torch::tensor({4L, 4L, 4L});
  const torch::Tensor sim = torch::randn({3, 3});
  EXPECT_THROW(sample_hard_negatives(sim, sim, ids), ModelError);
}

TEST(ItmLoss, IsCrossEntropyOverMatchAndMismatch) {
  const torch::Tensor logits = torch::tensor({{0.0, 2.0}, {1.0, -1.0}}, torch::kDouble);
  const torch::Tensor labels = torch::tensor({1L, 0L});
  const double expected =
      -(2.0 - std::log(1.0 + std::exp(2.0)) + 1.0 - std::log(std::exp(1.0) + std::exp(-1.0))) / 2;
  EXPECT_NEAR(itm_loss(logits, labels).item<double>(), expected, 1e-12);
}

TEST(LmLoss, OnHiddenStatesEqualsTheLossOnEveryPositionsLogits) {
  torch::manual_seed(3);
  const torch::Tensor hidden = torch::randn({3, 6, 5}, torch::kDouble).requires_grad_(true);
  const torch::Tensor weight = torch::randn({13, 5}, torch::kDouble).requires_grad_(true);
  const auto head = [&](const torch::Tensor& h) { return torch::linear(h, weight); };
  const torch::Tensor labels = torch::tensor({kIgnoreIndex, kIgnoreIndex, 4L, 7L, kIgnoreIndex,
                                              kIgnoreIndex, kIgnoreIndex, 1L, 2L, 3L, 12L, 0L,
                                              kIgnoreIndex, 5L, kIgnoreIndex, kIgnoreIndex,
                                              kIgnoreIndex, kIgnoreIndex})
                                   .view({3, 6});
  const torch::Tensor full = lm_loss(head(hidden), labels, 0.1);
  const torch::Tensor scored = lm_loss_at_targets(hidden, labels, head, 0.1);
  EXPECT_NEAR(scored.item<double>(), full.item<double>(), 1e-12);
  const auto grads = [&](const torch::Tensor& loss) {
    return torch::autograd::grad({loss}, {hidden, weight});
  };
  const auto g_full = grads(full);
  const auto g_scored = grads(scored);
  EXPECT_TRUE(torch::allclose(g_full[0], g_scored[0], 0, 1e-12));
  EXPECT_TRUE(torch::allclose(g_full[1], g_scored[1], 0, 1e-12));

  // Nothing to score: zero, and still differentiable.
  const torch::Tensor none = torch::full({3, 6}, kIgnoreIndex, torch::kLong);
  const torch::Tensor zero = lm_loss_at_targets(hidden, none, head, 0.1);
  EXPECT_EQ(zero.item<double>(), 0.0);
  EXPECT_TRUE(zero.requires_grad());
}

}  // namespace
}  // namespace capfilt::model
