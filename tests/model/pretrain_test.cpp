// One BLIP pre-training step on a tiny model: the wiring between model, losses, momentum encoders,
// queue and optimiser (the losses' math is in losses_test, learning in overfit_test).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/error.h"
#include "model/pretrain.h"

namespace capfilt::model {
namespace {

BlipConfig micro_config() {
  BlipConfig c = preset("tiny");
  c.vision.image_size = 32;
  c.vision.hidden = 32;
  c.vision.heads = 2;
  c.vision.intermediate = 64;
  c.vision.depth = 1;
  c.text.hidden = 32;
  c.text.heads = 2;
  c.text.intermediate = 64;
  c.text.layers = 1;
  c.embed_dim = 16;
  c.queue_size = 8;
  return c;
}

PretrainBatch random_batch(const BlipConfig& c, const std::vector<int64_t>& image_ids) {
  const int64_t b = static_cast<int64_t>(image_ids.size()), len = 7;
  PretrainBatch batch;
  batch.pixels = torch::randn({b, 3, c.vision.image_size, c.vision.image_size});
  batch.ids = torch::randint(1000, 2000, {b, len}, torch::kLong);
  batch.ids.select(1, 0).fill_(c.text.tokens.cls);
  batch.ids.select(1, len - 2).fill_(c.text.tokens.sep);
  batch.ids.select(1, len - 1).fill_(c.text.tokens.pad);
  batch.mask = batch.ids.ne(c.text.tokens.pad).to(torch::kLong);
  batch.image_ids = torch::tensor(image_ids, torch::kLong);
  return batch;
}

PretrainOptions options() {
  PretrainOptions o;
  o.optimizer.peak_lr = 1e-3;
  o.optimizer.warmup_steps = 0;
  o.optimizer.total_steps = 10;
  return o;
}

TEST(Pretrainer, StepReturnsThreeFiniteLossesAndUpdatesTheModel) {
  torch::manual_seed(0);
  const BlipConfig c = micro_config();
  Blip model(c);
  Pretrainer trainer(model, options());
  const torch::Tensor before = model->itm_head->weight.detach().clone();
  const StepResult r = trainer.step(random_batch(c, {0, 1, 2, 3}));
  for (double loss : {r.losses.itc, r.losses.itm, r.losses.lm}) {
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_GT(loss, 0.0);
  }
  // An untrained LM is about uniform over the vocabulary: cross-entropy near log(V).
  EXPECT_NEAR(r.losses.lm, std::log(static_cast<double>(c.text.vocab_size)), 1.5);
  // ITM at start: about log 2.
  EXPECT_NEAR(r.losses.itm, std::log(2.0), 0.5);
  EXPECT_GT(r.grad_norm, 0.0);
  EXPECT_DOUBLE_EQ(r.learning_rate, 1e-3);
  EXPECT_FALSE(torch::equal(before, model->itm_head->weight));
  EXPECT_EQ(trainer.steps_taken(), 1);
}

TEST(Pretrainer, MomentumEncodersFollowTheModelByEma) {
  torch::manual_seed(1);
  const BlipConfig c = micro_config();
  Blip model(c);
  Pretrainer trainer(model, options());
  const ParameterPairs& pairs = trainer.momentum_pairs();
  ASSERT_FALSE(pairs.names.empty());
  // Starts as a copy of the image encoder, text encoder and projections (no decoder, no ITM head).
  for (size_t i = 0; i < pairs.names.size(); ++i) {
    ASSERT_TRUE(torch::equal(pairs.online[i], pairs.momentum[i])) << pairs.names[i];
    EXPECT_EQ(pairs.names[i].rfind("text_decoder", 0), std::string::npos);
  }
  std::vector<torch::Tensor> old_momentum;
  for (const auto& t : pairs.momentum) old_momentum.push_back(t.detach().clone());
  trainer.step(random_batch(c, {0, 1, 2, 3}));
  const double m = c.momentum;
  size_t moved = 0;
  for (size_t i = 0; i < pairs.names.size(); ++i) {
    const torch::Tensor expected = m * old_momentum[i] + (1 - m) * pairs.online[i].detach();
    EXPECT_TRUE(torch::allclose(pairs.momentum[i], expected, 1e-5, 1e-6)) << pairs.names[i];
    moved += !torch::equal(pairs.momentum[i], old_momentum[i]);
    EXPECT_FALSE(pairs.momentum[i].requires_grad());
  }
  EXPECT_GT(moved, pairs.names.size() / 2);
}

TEST(Pretrainer, QueueReceivesTheBatchsMomentumFeaturesAndIds) {
  torch::manual_seed(2);
  const BlipConfig c = micro_config();
  Blip model(c);
  Pretrainer trainer(model, options());
  trainer.step(random_batch(c, {10, 11, 10, 12}));
  EXPECT_EQ(trainer.queue().pointer(), 4);
  const torch::Tensor ids = trainer.queue().ids();
  EXPECT_TRUE(torch::equal(ids.narrow(0, 0, 4), torch::tensor({10L, 11L, 10L, 12L})));
  EXPECT_TRUE(ids.narrow(0, 4, 4).eq(-100).all().item<bool>());
  EXPECT_TRUE(torch::allclose(trainer.queue().image_queue().narrow(1, 0, 4).norm(2, 0),
                              torch::ones({4}), 1e-4, 1e-5));
}

TEST(Pretrainer, TemperatureIsClampedToBlipsRange) {
  torch::manual_seed(3);
  const BlipConfig c = micro_config();
  Blip model(c);
  Pretrainer trainer(model, options());
  {
    torch::NoGradGuard no_grad;
    model->temp.fill_(5.0);
  }
  trainer.forward(random_batch(c, {0, 1}));
  EXPECT_FLOAT_EQ(model->temp.item<float>(), 0.5f);
  {
    torch::NoGradGuard no_grad;
    model->temp.fill_(1e-6);
  }
  trainer.forward(random_batch(c, {0, 1}));
  EXPECT_FLOAT_EQ(model->temp.item<float>(), 0.001f);
}

TEST(Pretrainer, AHigherTemperatureFloorHoldsAndAFloorOutsideTheRangeIsRefused) {
  torch::manual_seed(3);
  const BlipConfig c = micro_config();
  Blip model(c);
  PretrainOptions o = options();
  o.min_temperature = 0.05;
  Pretrainer trainer(model, o);
  {
    torch::NoGradGuard no_grad;
    model->temp.fill_(0.01);
  }
  trainer.forward(random_batch(c, {0, 1}));
  EXPECT_FLOAT_EQ(model->temp.item<float>(), 0.05f);
  for (double bad : {0.0, 0.6}) {
    o.min_temperature = bad;
    EXPECT_THROW(Pretrainer(model, o), ModelError) << bad;
  }
}

TEST(Pretrainer, LmLossIgnoresPaddingAndPrompt) {
  torch::manual_seed(4);
  const BlipConfig c = micro_config();
  Blip model(c);
  Pretrainer trainer(model, options());
  torch::NoGradGuard no_grad;
  PretrainBatch batch = random_batch(c, {0, 1});
  const double lm = trainer.forward(batch).lm.item<double>();
  // Changing the token after the last caption token only in padding leaves the loss unchanged...
  PretrainBatch padded = batch;
  padded.ids = torch::cat({batch.ids, torch::zeros({2, 3}, torch::kLong)}, 1);
  padded.mask = torch::cat({batch.mask, torch::zeros({2, 3}, torch::kLong)}, 1);
  EXPECT_NEAR(trainer.forward(padded).lm.item<double>(), lm, 1e-4);
  // ...and excluding a prompt changes it (fewer targets).
  PretrainBatch prompted = batch;
  prompted.prompt_length = 3;
  EXPECT_GT(std::abs(trainer.forward(prompted).lm.item<double>() - lm), 1e-6);
}

TEST(Pretrainer, ATextNegativeIsAFourthItmRowPerImageWithLabelNoMatch) {
  torch::manual_seed(5);
  const BlipConfig c = micro_config();
  Blip model(c);
  // Same weights, same seed: both draw the same hard negatives.
  Pretrainer plain(model, options()), with_negatives(model, options());
  torch::NoGradGuard no_grad;
  const PretrainBatch batch = random_batch(c, {0, 1, 2});
  PretrainBatch negatives = batch;
  negatives.negative_ids = torch::randint(1000, 2000, {3, 9}, torch::kLong);  // longer than ids
  negatives.negative_ids.select(1, 0).fill_(c.text.tokens.cls);
  negatives.negative_mask = torch::ones({3, 9}, torch::kLong);
  negatives.negative_mask.select(1, 8).fill_(0);
  const double three = plain.forward(batch).itm.item<double>();
  const double four = with_negatives.forward(negatives).itm.item<double>();
  const torch::Tensor logits = model->itm_logits(
      model->encode_image(batch.pixels), with_first_token(negatives.negative_ids, c.text.tokens.enc),
      negatives.negative_mask);
  const double extra =
      torch::nn::functional::cross_entropy(logits, torch::zeros({3}, torch::kLong)).item<double>();
  EXPECT_NEAR(four, (3 * three + extra) / 4, 1e-5);

  PretrainBatch wrong = negatives;
  wrong.negative_ids = negatives.negative_ids.narrow(0, 0, 2);
  wrong.negative_mask = negatives.negative_mask.narrow(0, 0, 2);
  EXPECT_THROW(with_negatives.forward(wrong), ModelError);
}

TEST(Pretrainer, NeedsEveryComponentAndTwoImages) {
  BlipConfig c = micro_config();
  c.components.itm_head = false;
  EXPECT_THROW(Pretrainer(Blip(c), options()), ModelError);
  const BlipConfig full = micro_config();
  Pretrainer trainer(Blip(full), options());
  EXPECT_THROW(trainer.step(random_batch(full, {3, 3})), ModelError);
}

TEST(Pretrainer, TrainingStateGivesAnExactContinuation) {
  torch::manual_seed(0);
  const BlipConfig c = micro_config();
  const PretrainBatch b1 = random_batch(c, {0, 1, 2, 3});
  const PretrainBatch b2 = random_batch(c, {4, 5, 6, 7});
  Blip a(c);
  Pretrainer first(a, options());
  first.step(b1);
  first.step(b2);  // the queue, moments and generator have moved

  Blip b(c);
  load_state_dict_strict(*b, state_dict(*a), "a");
  Pretrainer second(b, options());
  second.load_training_state(first.training_state(), "a's state");
  EXPECT_EQ(second.steps_taken(), 2);
  const StepResult ra = first.step(b1);
  const StepResult rb = second.step(b1);
  EXPECT_EQ(ra.losses.itc, rb.losses.itc);
  EXPECT_EQ(ra.losses.itm, rb.losses.itm);
  EXPECT_EQ(ra.losses.lm, rb.losses.lm);
  EXPECT_EQ(ra.learning_rate, rb.learning_rate);
  const NamedTensors wa = state_dict(*a), wb = state_dict(*b);
  for (const auto& [name, t] : wa) EXPECT_TRUE(torch::equal(t, wb.at(name))) << name;
  const NamedTensors sa = first.training_state(), sb = second.training_state();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) EXPECT_TRUE(torch::equal(t, sb.at(name))) << name;
}

TEST(Pretrainer, TrainingStateOfAnotherConfigIsRefused) {
  const BlipConfig c = micro_config();
  Pretrainer trainer(Blip(c), options());
  trainer.step(random_batch(c, {0, 1, 2, 3}));
  BlipConfig other = c;
  other.queue_size = 4;
  Pretrainer second(Blip(other), options());
  try {
    second.load_training_state(trainer.training_state(), "ckpt/training_state.safetensors");
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt/training_state.safetensors"), std::string::npos);
  }
}

TEST(Pretrainer, LossTermsSelectTheFineTuningSubsets) {
  torch::manual_seed(1);
  BlipConfig captioner = micro_config();  // BLIP's blip_decoder: image encoder + decoder only
  captioner.components = {true, false, true, false, false};
  PretrainOptions lm = options();
  lm.terms = {false, false, true};
  Pretrainer cap(Blip(captioner), lm);
  EXPECT_FALSE(cap.momentum_model());
  const StepResult rc = cap.step(random_batch(captioner, {0, 1, 2}));
  EXPECT_EQ(rc.losses.itc, 0.0);
  EXPECT_EQ(rc.losses.itm, 0.0);
  EXPECT_TRUE(std::isfinite(rc.losses.lm) && rc.losses.lm > 0);

  BlipConfig filter = micro_config();  // blip_retrieval: no decoder
  filter.components.text_decoder = false;
  PretrainOptions itc_itm = options();
  itc_itm.terms = {true, true, false};
  Pretrainer flt(Blip(filter), itc_itm);
  const StepResult rf = flt.step(random_batch(filter, {0, 1, 2}));
  EXPECT_GT(rf.losses.itc, 0.0);
  EXPECT_GT(rf.losses.itm, 0.0);
  EXPECT_EQ(rf.losses.lm, 0.0);
  EXPECT_EQ(flt.queue().pointer(), 3);

  EXPECT_THROW(Pretrainer(Blip(captioner), itc_itm), ModelError);  // ITC needs projections
  PretrainOptions none = options();
  none.terms = {false, false, false};
  EXPECT_THROW(Pretrainer(Blip(filter), none), ModelError);
}

}  // namespace
}  // namespace capfilt::model
