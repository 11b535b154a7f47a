// Parity with Hugging Face transformers 4.29's BLIP on the fixtures in tests/data (tiny vocabulary,
// always present) and ../shared/fixtures/blip-parity (real vocabulary, when present): the weights
// go through our importer, the outputs must match the reference to 1e-4 absolute.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "model/checkpoint.h"
#include "model/hf_import.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
constexpr double kTolerance = 1e-4;

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e9;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

#define EXPECT_CLOSE(name, ours, reference)                                             \
  do {                                                                                  \
    const double err = max_abs_diff((ours), (reference));                               \
    std::printf("  %-40s max abs error %.3g\n", name, err);                             \
    EXPECT_LE(err, kTolerance) << name;                                                 \
  } while (0)

struct Fixture {
  std::string dir;
  bool available() const { return fs::exists(dir); }
};

std::vector<std::string> fixture_dirs() {
  return {std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab",
          std::string(test::kSharedDir) + "/fixtures/blip-parity"};
}

class ParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!fs::exists(GetParam())) GTEST_SKIP() << GetParam() << " is not present";
  }
  std::string path(const std::string& model) const { return GetParam() + "/" + model; }
  NamedTensors reference(const std::string& model) const {
    return load_safetensors(path(model) + "/reference.safetensors");
  }
};

// Logits of each generation step by teacher forcing through the cached decoder: the first
// `prefix` tokens at once, then one token per step.
torch::Tensor step_logits(const Blip& model, const torch::Tensor& encoder_states,
                          const torch::Tensor& encoder_mask, const torch::Tensor& ids,
                          int64_t prefix, int64_t steps) {
  DecoderState state = model->start_decoding(encoder_states, encoder_mask);
  std::vector<torch::Tensor> out;
  out.push_back(model->decode_step(ids.slice(1, 0, prefix), state));
  for (int64_t s = 1; s < steps; ++s) {
    out.push_back(model->decode_step(ids.slice(1, prefix + s - 1, prefix + s), state));
  }
  return torch::stack(out, 1);
}

TEST_P(ParityTest, Captioner) {
  torch::NoGradGuard no_grad;
  ImportedModel imported = import_hf_folder(path("caption"));
  const Blip& model = imported.model;
  EXPECT_EQ(imported.kind, ImportedKind::kCaptioner);
  EXPECT_FALSE(model->has_text_encoder());
  EXPECT_FALSE(model->config().text.tie_word_embeddings);
  NamedTensors ref = reference("caption");

  torch::Tensor image = model->encode_image(ref["pixel_values"]);
  EXPECT_CLOSE("vision_last_hidden_state", image, ref["vision_last_hidden_state"]);
  const auto& norm = model->visual_encoder->norm;
  torch::Tensor pooled = torch::layer_norm(image.select(1, 0), {image.size(2)}, norm->weight,
                                           norm->bias, model->config().vision.layer_norm_eps);
  EXPECT_CLOSE("vision_pooler_output", pooled, ref["vision_pooler_output"]);

  torch::Tensor logits = model->lm_logits(image, ref["lm_input_ids"], ref["lm_attention_mask"]);
  EXPECT_CLOSE("lm_logits", logits, ref["lm_logits"]);

  torch::Tensor greedy = ref["caption_ids_greedy"];
  EXPECT_CLOSE("caption_step_logits_greedy (cached)",
               step_logits(model, image, {}, greedy, 1, 10), ref["caption_step_logits_greedy"]);
  torch::Tensor prompted = ref["caption_ids_prompted"];
  const int64_t prefix = prompted.size(1) - 10;
  EXPECT_CLOSE("caption_step_logits_prompted (cached)",
               step_logits(model, image, {}, prompted, prefix, 10),
               ref["caption_step_logits_prompted"]);
}

TEST_P(ParityTest, Filter) {
  torch::NoGradGuard no_grad;
  ImportedModel imported = import_hf_folder(path("itm"));
  const Blip& model = imported.model;
  EXPECT_EQ(imported.kind, ImportedKind::kRetrieval);
  EXPECT_FALSE(model->has_text_decoder());
  NamedTensors ref = reference("itm");

  torch::Tensor image = model->encode_image(ref["pixel_values"]);
  EXPECT_CLOSE("vision_last_hidden_state", image, ref["vision_last_hidden_state"]);
  torch::Tensor ids = ref["input_ids"], mask = ref["attention_mask"];
  EXPECT_CLOSE("itm_text_hidden_state",
               model->text_hidden(TextMode::kImageGrounded, ids, mask, image),
               ref["itm_text_hidden_state"]);
  EXPECT_CLOSE("itc_text_hidden_state", model->text_hidden(TextMode::kUnimodal, ids, mask),
               ref["itc_text_hidden_state"]);
  torch::Tensor logits = model->itm_logits(image, ids, mask);
  EXPECT_CLOSE("itm_logits", logits, ref["itm_logits"]);
  EXPECT_CLOSE("itm_probs", torch::softmax(logits, 1), ref["itm_probs"]);
  torch::Tensor sim = torch::matmul(model->image_features(image),
                                    model->text_features(ids, mask).t());
  EXPECT_CLOSE("itc_similarity", sim, ref["itc_similarity"]);
}

TEST_P(ParityTest, QuestionAnswering) {
  torch::NoGradGuard no_grad;
  ImportedModel imported = import_hf_folder(path("vqa"));
  const Blip& model = imported.model;
  EXPECT_EQ(imported.kind, ImportedKind::kQuestionAnswering);
  EXPECT_EQ(model->config().sharing, SharingMode::kSeparate);
  NamedTensors ref = reference("vqa");

  torch::Tensor image = model->encode_image(ref["pixel_values"]);
  EXPECT_CLOSE("vision_last_hidden_state", image, ref["vision_last_hidden_state"]);
  torch::Tensor mask = ref["question_attention_mask"];
  torch::Tensor question =
      model->text_hidden(TextMode::kImageGrounded, ref["question_input_ids"], mask, image);
  EXPECT_CLOSE("question_hidden_state", question, ref["question_hidden_state"]);
  // The answer decoder attends to every question state (Hugging Face passes a mask of ones).
  EXPECT_CLOSE("answer_step_logits (cached)",
               step_logits(model, question, {}, ref["answer_ids"], 1, 10),
               ref["answer_step_logits"]);

  // The [ENC] variant: the reference keeps only the greedy answer; its first step's margin must
  // come out of the question states computed with [ENC] first.
  torch::Tensor question_enc =
      model->text_hidden(TextMode::kImageGrounded, ref["question_input_ids_enc"], mask, image);
  torch::Tensor enc_logits = step_logits(model, question_enc, {}, ref["answer_ids_enc"], 1, 10);
  torch::Tensor top2 = std::get<0>(enc_logits.topk(2, -1));
  torch::Tensor margin = top2.select(-1, 0) - top2.select(-1, 1);
  EXPECT_CLOSE("answer_step_margin_enc (cached)", margin, ref["answer_step_margin_enc"]);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest, ::testing::ValuesIn(fixture_dirs()),
                         [](const auto& info) {
                           return info.param.find("tiny-vocab") != std::string::npos
                                      ? std::string("TinyVocab")
                                      : std::string("RealVocab");
                         });

}  // namespace
}  // namespace capfilt::model
