// The search algorithms on fake decoders with hand-made distributions: beam search finds the best
// sequence, one beam equals greedy, min length and repetition penalty act, nucleus sampling keeps the
// right set and is reproducible, bad options are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "model/error.h"
#include "model/generation.h"

namespace capfilt::model {
namespace {

// Tiny vocabulary: 0 [PAD], 1 [SEP], 2 [DEC], 3.. words.
constexpr int64_t kPad = 0, kEos = 1, kBos = 2, kA = 3, kB = 4, kC = 5;
constexpr int64_t kVocab = 8;

using Distribution = std::function<std::vector<float>(int64_t image, const std::vector<int64_t>&)>;

// A stateful fake decoder: every row keeps its image and history (as a real cache would), so a wrong
// reorder shows up as wrong logits.
class FakeSteps : public DecoderSteps {
 public:
  FakeSteps(int64_t images, int per_image, Distribution dist) : dist_(std::move(dist)) {
    for (int64_t i = 0; i < images * per_image; ++i) image_.push_back(i / per_image);
    history_.resize(image_.size());
  }
  torch::Tensor step(const torch::Tensor& tokens) override {
    ++calls;
    EXPECT_EQ(tokens.size(0), static_cast<int64_t>(image_.size()));
    auto out = torch::empty({tokens.size(0), kVocab});
    for (int64_t r = 0; r < tokens.size(0); ++r) {
      for (int64_t j = 0; j < tokens.size(1); ++j) history_[r].push_back(tokens[r][j].item<int64_t>());
      auto logits = dist_(image_[r], history_[r]);
      for (int64_t v = 0; v < kVocab; ++v) out[r][v] = logits[v];
    }
    return out;
  }
  void reorder(const torch::Tensor& rows) override {
    std::vector<int64_t> image;
    std::vector<std::vector<int64_t>> history;
    for (int64_t i = 0; i < rows.size(0); ++i) {
      image.push_back(image_[rows[i].item<int64_t>()]);
      history.push_back(history_[rows[i].item<int64_t>()]);
    }
    image_ = image;
    history_ = history;
  }
  int calls = 0;

 private:
  Distribution dist_;
  std::vector<int64_t> image_;
  std::vector<std::vector<int64_t>> history_;
};

std::vector<float> log_of(std::vector<float> p) {
  for (auto& x : p) x = std::log(std::max(x, 1e-12f));
  return p;
}

// Pseudo-random logits that depend on the image and the whole history.
std::vector<float> hashed_logits(int64_t image, const std::vector<int64_t>& history) {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(image * 7919);
  for (auto t : history) h = (h ^ static_cast<uint64_t>(t + 1)) * 1099511628211ull;
  std::vector<float> logits(kVocab);
  for (int64_t v = 0; v < kVocab; ++v) {
    uint64_t x = (h ^ static_cast<uint64_t>(v * 2654435761u)) * 6364136223846793005ull;
    x ^= x >> 29;
    logits[v] = static_cast<float>(x >> 40) / static_cast<float>(1 << 22);  // 0 .. 4, no ties
  }
  logits[kPad] = -5.0f;
  logits[kBos] = -5.0f;
  return logits;
}

GenerationOptions base_options(DecodingMethod method) {
  GenerationOptions o;
  o.method = method;
  o.num_beams = 1;
  o.max_length = 8;
  o.min_length = 0;
  o.tokens = {kBos, kEos, kPad};
  return o;
}

std::vector<int64_t> row(const torch::Tensor& ids, int64_t r) {
  auto t = ids[r].contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

GenerationOutput run(DecodingMethod method, const GenerationOptions& o, int64_t images,
                     Distribution dist) {
  GenerationOptions opts = o;
  opts.method = method;
  FakeSteps steps(images, rows_per_image(opts), std::move(dist));
  return run_search(steps, images, opts);
}

// From [DEC]: A 0.5, B 0.4, [SEP] 0.1. After A: [SEP] 0.4, A 0.3, B 0.3. After B: [SEP] 0.9.
// Greedy takes A then [SEP] (p = 0.2); the best sequence is B [SEP] (p = 0.36).
std::vector<float> trap(int64_t, const std::vector<int64_t>& h) {
  std::vector<float> p(kVocab, 0.0f);
  switch (h.back()) {
    case kBos: p[kA] = 0.5f; p[kB] = 0.4f; p[kEos] = 0.1f; break;
    case kA: p[kEos] = 0.4f; p[kA] = 0.3f; p[kB] = 0.3f; break;
    default: p[kEos] = 0.9f; p[kC] = 0.1f; break;
  }
  return log_of(p);
}

TEST(BeamSearch, FindsTheMostProbableSequenceGreedyMisses) {
  auto o = base_options(DecodingMethod::kBeamSearch);
  auto greedy = run(DecodingMethod::kGreedy, o, 1, trap);
  EXPECT_EQ(row(greedy.ids, 0), (std::vector<int64_t>{kBos, kA, kEos}));
  EXPECT_NEAR(greedy.log_probs[0].item<float>(), std::log(0.2f), 1e-5);

  o.num_beams = 2;
  auto beam = run(DecodingMethod::kBeamSearch, o, 1, trap);
  EXPECT_EQ(row(beam.ids, 0), (std::vector<int64_t>{kBos, kB, kEos}));
  EXPECT_NEAR(beam.log_probs[0].item<float>(), std::log(0.36f), 1e-5);
  EXPECT_EQ(beam.generated(0), (std::vector<int64_t>{kB}));
}

TEST(BeamSearch, ReturnsSeveralHypothesesBestFirst) {
  auto o = base_options(DecodingMethod::kBeamSearch);
  o.num_beams = 3;
  o.num_sequences = 2;
  auto beam = run(DecodingMethod::kBeamSearch, o, 1, trap);
  ASSERT_EQ(beam.ids.size(0), 2);
  // B [SEP] (p 0.36, length 2) beats A B [SEP] (p 0.135, length 3), which beats A [SEP] (p 0.2,
  // length 2) once scores are normalised by length: log(0.135) / 3 > log(0.2) / 2.
  EXPECT_EQ(row(beam.ids, 0), (std::vector<int64_t>{kBos, kB, kEos, kPad}));
  EXPECT_EQ(row(beam.ids, 1), (std::vector<int64_t>{kBos, kA, kB, kEos}));
  EXPECT_GT(beam.scores[0].item<float>(), beam.scores[1].item<float>());
}

TEST(BeamSearch, OneBeamEqualsGreedyOnABatch) {
  for (int max_length : {4, 8, 12}) {
    auto o = base_options(DecodingMethod::kBeamSearch);
    o.max_length = max_length;
    o.min_length = 3;
    auto greedy = run(DecodingMethod::kGreedy, o, 4, hashed_logits);
    auto beam = run(DecodingMethod::kBeamSearch, o, 4, hashed_logits);
    ASSERT_TRUE(torch::equal(greedy.ids, beam.ids)) << greedy.ids << beam.ids;
    EXPECT_TRUE(torch::allclose(greedy.log_probs, beam.log_probs, 1e-5, 1e-5));
  }
}

TEST(BeamSearch, BatchedImagesMatchImagesAlone) {
  auto o = base_options(DecodingMethod::kBeamSearch);
  o.num_beams = 3;
  o.max_length = 10;
  auto batch = run(DecodingMethod::kBeamSearch, o, 3, hashed_logits);
  for (int64_t image = 0; image < 3; ++image) {
    auto alone = run(DecodingMethod::kBeamSearch, o, 1,
                     [image](int64_t, const std::vector<int64_t>& h) { return hashed_logits(image, h); });
    auto expected = row(alone.ids, 0);
    auto got = row(batch.ids, image);
    got.resize(expected.size());  // the batch may be padded wider
    EXPECT_EQ(got, expected) << "image " << image;
    EXPECT_NEAR(batch.log_probs[image].item<float>(), alone.log_probs[0].item<float>(), 1e-5);
  }
}

TEST(Generation, PromptIsKeptInIdsButNotInGeneratedTokens) {
  auto o = base_options(DecodingMethod::kGreedy);
  o.prompt_ids = {kC, kC};
  o.max_length = 6;
  auto out = run(DecodingMethod::kGreedy, o, 2, hashed_logits);
  EXPECT_EQ(out.prompt_length, 3);
  for (int64_t r = 0; r < 2; ++r) {
    auto ids = row(out.ids, r);
    EXPECT_EQ((std::vector<int64_t>(ids.begin(), ids.begin() + 3)),
              (std::vector<int64_t>{kBos, kC, kC}));
    auto gen = out.generated(r);
    EXPECT_EQ(gen, (std::vector<int64_t>(ids.begin() + 3, ids.begin() + 3 + gen.size())));
  }
}

// [SEP] is always the most likely token.
std::vector<float> eager_to_stop(int64_t, const std::vector<int64_t>&) {
  return log_of({0.0f, 0.6f, 0.0f, 0.2f, 0.1f, 0.1f, 0.0f, 0.0f});
}

TEST(Generation, MinLengthSuppressesSepAndFinishedRowsArePadded) {
  for (auto method : {DecodingMethod::kGreedy, DecodingMethod::kBeamSearch}) {
    auto o = base_options(method);
    o.num_beams = method == DecodingMethod::kBeamSearch ? 2 : 1;
    auto free = run(method, o, 1, eager_to_stop);
    EXPECT_EQ(row(free.ids, 0), (std::vector<int64_t>{kBos, kEos}));
    o.min_length = 5;
    auto held = run(method, o, 1, eager_to_stop);
    auto ids = row(held.ids, 0);
    SCOPED_TRACE(::testing::PrintToString(ids));
    // As Hugging Face counts: [SEP] may come once the sequence holds min_length tokens.
    ASSERT_EQ(ids.size(), 6u);
    EXPECT_EQ(ids[5], kEos);
    for (int i = 1; i < 5; ++i) EXPECT_NE(ids[i], kEos);
  }
  // Finished rows of a batch are padded with [PAD] while the others go on.
  auto o = base_options(DecodingMethod::kGreedy);
  auto out = run(DecodingMethod::kGreedy, o, 2, [](int64_t image, const std::vector<int64_t>& h) {
    return image == 0 ? eager_to_stop(image, h) : log_of({0, 0.1f, 0, 0.9f, 0, 0, 0, 0});
  });
  EXPECT_EQ(row(out.ids, 0), (std::vector<int64_t>{kBos, kEos, kPad, kPad, kPad, kPad, kPad, kPad}));
  EXPECT_EQ(row(out.ids, 1), (std::vector<int64_t>{kBos, kA, kA, kA, kA, kA, kA, kA}));
}

TEST(Generation, RepetitionPenaltyScalesSeenTokens) {
  auto scores = torch::tensor({{2.0f, -2.0f, 1.0f, 3.0f}});
  auto history = torch::tensor({{0, 1, 0}}, torch::kLong);
  auto out = apply_repetition_penalty(scores, history, 2.0f);
  EXPECT_TRUE(torch::equal(out, torch::tensor({{1.0f, -4.0f, 1.0f, 3.0f}})));

  // A goes on forever without a penalty; with one, the decoder moves away from A.
  auto loop = [](int64_t, const std::vector<int64_t>&) {
    return std::vector<float>{-9, -9, -9, 3.0f, 2.0f, 1.0f, -9, -9};
  };
  auto o = base_options(DecodingMethod::kGreedy);
  o.max_length = 4;
  EXPECT_EQ(row(run(DecodingMethod::kGreedy, o, 1, loop).ids, 0),
            (std::vector<int64_t>{kBos, kA, kA, kA}));
  o.repetition_penalty = 2.0f;
  EXPECT_EQ(row(run(DecodingMethod::kGreedy, o, 1, loop).ids, 0),
            (std::vector<int64_t>{kBos, kA, kB, kA}));
}

TEST(Nucleus, KeepsTheSmallestSetReachingTopP) {
  // Probabilities 0.05, 0.5, 0.15, 0.3 (shuffled on purpose).
  auto logits = torch::log(torch::tensor({{0.05f, 0.5f, 0.15f, 0.3f}}));
  auto kept = [&](float p) { return torch::isfinite(apply_top_p(logits, p)).squeeze(0); };
  EXPECT_TRUE(torch::equal(kept(0.4f), torch::tensor({false, true, false, false})));
  EXPECT_TRUE(torch::equal(kept(0.75f), torch::tensor({false, true, false, true})));
  EXPECT_TRUE(torch::equal(kept(0.85f), torch::tensor({false, true, true, true})));
  EXPECT_TRUE(torch::equal(kept(0.99f), torch::tensor({true, true, true, true})));
  EXPECT_TRUE(torch::equal(kept(0.01f), torch::tensor({false, true, false, false})));
  EXPECT_TRUE(torch::equal(torch::isfinite(apply_top_k(logits, 2)).squeeze(0),
                           torch::tensor({false, true, false, true})));
}

TEST(Nucleus, SamplesByInverseCdfOverTheNucleusInVocabularyOrder) {
  // Probabilities 0.05, 0.5, 0.15, 0.3: the 0.85 nucleus is tokens 1, 2, 3 with mass 0.95, laid
  // out in vocabulary order as [0, 0.5) [0.5, 0.65) [0.65, 0.95).
  const auto scores = torch::log(torch::tensor({0.05f, 0.5f, 0.15f, 0.3f})).repeat({5, 1});
  const auto u = torch::tensor({0.0, 0.52, 0.54, 0.7, 0.999}, torch::kDouble);
  // u * 0.95 = 0, 0.494, 0.513, 0.665, 0.949.
  EXPECT_TRUE(torch::equal(sample_top_p(scores, 0.85f, u), torch::tensor({1L, 1L, 2L, 3L, 3L})));
  // Without a nucleus every token can be drawn: [0, 0.05) is token 0.
  EXPECT_TRUE(torch::equal(
      sample_top_p(scores.narrow(0, 0, 2), 1.0f, torch::tensor({0.01, 0.9}, torch::kDouble)),
      torch::tensor({0L, 3L})));
  // Tokens with probability 0 (top-k's -inf) are never drawn, even by u = 0.
  const auto masked = torch::log(torch::tensor({{0.0f, 0.0f, 0.4f, 0.6f}}));
  EXPECT_EQ(sample_top_p(masked, 1.0f, torch::tensor({0.0}, torch::kDouble)).item<int64_t>(), 2);
}

std::vector<float> flat(int64_t, const std::vector<int64_t>&) {
  // C holds 0.04 of the mass: outside the 0.9 nucleus.
  return log_of({0.0f, 0.06f, 0.0f, 0.3f, 0.3f, 0.04f, 0.3f, 0.0f});
}

TEST(Nucleus, SameSeedSameSamplesDifferentSeedsDiffer) {
  auto o = base_options(DecodingMethod::kNucleus);
  o.num_sequences = 4;
  o.max_length = 12;
  o.seed = 7;
  auto a = run(DecodingMethod::kNucleus, o, 2, flat);
  auto b = run(DecodingMethod::kNucleus, o, 2, flat);
  ASSERT_EQ(a.ids.size(0), 8);
  EXPECT_TRUE(torch::equal(a.ids, b.ids));
  EXPECT_TRUE(torch::equal(a.log_probs, b.log_probs));
  o.seed = 8;
  auto c = run(DecodingMethod::kNucleus, o, 2, flat);
  EXPECT_FALSE(a.ids.sizes() == c.ids.sizes() && torch::equal(a.ids, c.ids));
  // Samples of one image differ from each other.
  EXPECT_FALSE(torch::equal(a.ids[0], a.ids[1]) && torch::equal(a.ids[1], a.ids[2]));
}

TEST(Nucleus, NeverSamplesOutsideTheNucleus) {
  auto o = base_options(DecodingMethod::kNucleus);
  o.num_sequences = 50;
  o.max_length = 20;
  o.top_p = 0.9f;
  auto out = run(DecodingMethod::kNucleus, o, 1, flat);
  EXPECT_EQ((out.ids == kC).sum().item<int64_t>(), 0);
  o.top_p = 1.0f;
  out = run(DecodingMethod::kNucleus, o, 1, flat);
  EXPECT_GT((out.ids == kC).sum().item<int64_t>(), 0);
}

TEST(Generation, RefusesImpossibleOptions) {
  auto expect_error = [](GenerationOptions o, const std::string& needle) {
    FakeSteps steps(1, std::max(1, rows_per_image(o)), hashed_logits);
    try {
      run_search(steps, 1, o);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(steps.calls, 0);
  };
  auto o = base_options(DecodingMethod::kBeamSearch);
  o.num_beams = 0;
  expect_error(o, "beam count 0");
  o = base_options(DecodingMethod::kGreedy);
  o.min_length = 9;
  expect_error(o, "below min_length");
  o = base_options(DecodingMethod::kGreedy);
  o.prompt_ids = std::vector<int64_t>(7, kA);
  expect_error(o, "prompt");
  o = base_options(DecodingMethod::kNucleus);
  o.top_p = 0.0f;
  expect_error(o, "top_p");
  o = base_options(DecodingMethod::kBeamSearch);
  o.num_beams = 2;
  o.num_sequences = 3;
  expect_error(o, "exceeds the beam count");
}

}  // namespace
}  // namespace capfilt::model
