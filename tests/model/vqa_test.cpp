// VQA on a tiny random model: both question-token variants agree, padding of the question does not
// reach the answer, the seed's prompt framing keeps the prompt out of the answer, bad input is a
// ModelError. (Parity of the answer ids with Hugging Face: generation_parity_test.)

#include <gtest/gtest.h>

#include <string>

#include "model/blip.h"
#include "model/error.h"
#include "model/vqa.h"

namespace capfilt::model {
namespace {

constexpr int64_t kPad = 0, kCls = 1, kSep = 2, kDec = 38, kEnc = 39;

BlipConfig tiny_config() {
  BlipConfig c = preset("tiny");
  c.vision = VisionConfig{32, 16, 32, 1, 4, 64, 1e-6};
  c.text.vocab_size = 40;
  c.text.hidden = 32;
  c.text.layers = 2;
  c.text.heads = 4;
  c.text.intermediate = 64;
  c.text.max_positions = 32;
  c.text.tokens = SpecialTokens{kPad, kCls, kSep, kDec, kEnc};
  c.embed_dim = 16;
  c.sharing = SharingMode::kSeparate;
  return c;
}

class VqaTest : public ::testing::Test {
 protected:
  VqaTest() : model_(tiny_config()) {
    torch::manual_seed(1);
    model_ = Blip(tiny_config());
    model_->eval();
    pixels_ = torch::randn({2, 3, 32, 32});
    questions_ = {torch::tensor(std::vector<int64_t>{kCls, 5, 6, 7, kSep, kCls, 8, 9, kSep, kPad}).view({2, 5}),
                  torch::tensor(std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 0}).view({2, 5})};
  }
  static VqaOptions greedy(int max_length = 6) {
    VqaOptions o;
    o.generation.method = DecodingMethod::kGreedy;
    o.generation.max_length = max_length;
    o.generation.min_length = 0;
    return o;
  }
  Blip model_;
  torch::Tensor pixels_;
  QuestionBatch questions_;
};

TEST_F(VqaTest, EncTokenEitherWayGivesTheSameAnswers) {
  auto o = greedy();
  o.first_token = VqaFirstToken::kEnc;
  auto a = answer_questions(*model_, pixels_, questions_, o);
  QuestionBatch with_enc{with_first_token(questions_.ids, kEnc), questions_.mask};
  o.first_token = VqaFirstToken::kCls;
  auto b = answer_questions(*model_, pixels_, with_enc, o);
  EXPECT_TRUE(torch::equal(a.ids, b.ids));
  EXPECT_TRUE(torch::allclose(a.log_probs, b.log_probs, 0.0, 1e-6));
  auto c = answer_questions(*model_, pixels_, questions_, o);  // [CLS] really is different input
  EXPECT_FALSE(torch::allclose(a.log_probs, c.log_probs, 0.0, 1e-6));
  EXPECT_EQ(a.ids[0][0].item<int64_t>(), kDec);
}

TEST_F(VqaTest, MaskedQuestionPaddingDoesNotReachTheAnswer) {
  // The same questions padded to 8 columns instead of 5.
  auto ids = torch::cat({questions_.ids, torch::zeros({2, 3}, torch::kLong)}, 1);
  auto mask = torch::cat({questions_.mask, torch::zeros({2, 3}, torch::kLong)}, 1);
  auto o = greedy(8);
  auto a = answer_questions(*model_, pixels_, questions_, o);
  auto b = answer_questions(*model_, pixels_, {ids, mask}, o);
  EXPECT_TRUE(torch::equal(a.ids, b.ids));
  EXPECT_TRUE(torch::allclose(a.log_probs, b.log_probs, 0.0, 1e-5));
  o.mask_question_padding = false;  // Hugging Face's behaviour: the padding is attended to
  auto c = answer_questions(*model_, pixels_, {ids, mask}, o);
  EXPECT_FALSE(torch::allclose(a.log_probs, c.log_probs, 0.0, 1e-5));
}

TEST_F(VqaTest, BeamAnswersAreValidSequences) {
  VqaOptions o;  // BLIP's defaults: 3 beams, max length 10, min length 1
  auto out = answer_questions(*model_, pixels_, questions_, o);
  ASSERT_EQ(out.ids.size(0), 2);
  EXPECT_LE(out.ids.size(1), 10);
  for (int64_t r = 0; r < 2; ++r) {
    EXPECT_EQ(out.ids[r][0].item<int64_t>(), kDec);
    EXPECT_LT(out.log_probs[r].item<float>(), 0.0f);
  }
}

TEST_F(VqaTest, PromptFramingKeepsThePromptOutOfTheAnswer) {
  Blip captioner(tiny_config());
  const std::vector<int64_t> prompt{10, 11, 12, 13};  // "question: ... answer:"
  GenerationOptions o = vqa_defaults();
  o.method = DecodingMethod::kGreedy;
  o.max_length = 5;  // answer tokens incl. [DEC]; the prompt comes on top
  o.min_length = 0;
  auto out = answer_with_prompt(*captioner, pixels_.slice(0, 0, 1), prompt, o);
  EXPECT_EQ(out.prompt_length, 5);
  EXPECT_LE(out.ids.size(1), 9);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out.ids[0][i + 1].item<int64_t>(), prompt[i]);
  auto answer = out.generated(0);
  EXPECT_LE(answer.size(), 4u);
}

TEST_F(VqaTest, BadInputIsAModelError) {
  auto o = greedy();
  EXPECT_THROW(answer_questions(*model_, pixels_.slice(0, 0, 1), questions_, o), ModelError);
  o.generation.method = DecodingMethod::kBeamSearch;
  o.generation.num_beams = 0;
  EXPECT_THROW(answer_questions(*model_, pixels_, questions_, o), ModelError);
  auto answers = torch::tensor(std::vector<int64_t>{kCls, kSep}).view({1, 2});
  EXPECT_THROW(rank_answers(*model_, pixels_, questions_, answers.view({2}), {}, 4, greedy()),
               ModelError);
  EXPECT_THROW(rank_answers(*model_, pixels_, questions_, answers, {}, 0, greedy()), ModelError);
  auto ranking = rank_answers(*model_, pixels_, questions_, answers, {}, 4, greedy());
  EXPECT_EQ(ranking.best, (std::vector<int64_t>{0, 0}));
}

}  // namespace
}  // namespace capfilt::model
