// The composed model: components, names as in the Salesforce checkpoints, and our checkpoint format.

#include <gtest/gtest.h>

#include <filesystem>

#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/error.h"
#include "model/hf_import.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

BlipConfig small(SharingMode sharing = SharingMode::kBlip) {
  BlipConfig c = preset("tiny");
  c.vision = VisionConfig{32, 16, 32, 1, 4, 64, 1e-6};
  c.text.vocab_size = 40;
  c.text.hidden = 32;
  c.text.layers = 2;
  c.text.heads = 4;
  c.text.intermediate = 64;
  c.text.max_positions = 16;
  c.text.tokens = SpecialTokens{0, 1, 2, 38, 39};
  c.embed_dim = 16;
  c.sharing = sharing;
  return c;
}

TEST(BlipTest, NamesEqualTheSalesforceCheckpoint) {
  Blip model(small());
  const NamedTensors names = state_dict(*model);
  for (const char* name :
       {"visual_encoder.blocks.0.attn.qkv.weight", "visual_encoder.pos_embed",
        "text_encoder.embeddings.word_embeddings.weight",
        "text_encoder.encoder.layer.1.attention.self.query.weight",
        "text_encoder.encoder.layer.0.crossattention.output.LayerNorm.bias",
        "text_encoder.encoder.layer.0.intermediate.dense.weight",
        "text_decoder.bert.encoder.layer.0.attention.self.key.bias",
        "text_decoder.cls.predictions.transform.dense.weight", "text_decoder.cls.predictions.bias",
        "itm_head.weight", "vision_proj.bias", "text_proj.weight", "temp"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  EXPECT_EQ(names.count("text_decoder.cls.predictions.decoder.weight"), 0u);  // tied
  EXPECT_NEAR(model->temp.item<double>(), 0.07, 1e-7);
}

TEST(BlipTest, ForwardShapesAndFeatures) {
  torch::NoGradGuard no_grad;
  Blip model(small());
  torch::Tensor image = model->encode_image(torch::randn({3, 3, 32, 32}));
  EXPECT_EQ(image.sizes(), (std::vector<int64_t>{3, 5, 32}));
  torch::Tensor ids = torch::randint(3, 38, {3, 7});
  EXPECT_EQ(model->itm_logits(image, ids, {}).sizes(), (std::vector<int64_t>{3, 2}));
  torch::Tensor f = model->image_features(image);
  EXPECT_EQ(f.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_LT((f.norm(2, -1) - 1).abs().max().item<double>(), 1e-5);
  EXPECT_LT((model->text_features(ids, {}).norm(2, -1) - 1).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(model->lm_logits(image, ids, {}).sizes(), (std::vector<int64_t>{3, 7, 40}));
}

TEST(BlipTest, PartialModelsRefuseWhatTheyLack) {
  BlipConfig captioner = small();
  captioner.components = Components{true, false, true, false, false};
  Blip model(captioner);
  EXPECT_FALSE(model->has_text_encoder());
  EXPECT_EQ(state_dict(*model).count("text_decoder.bert.embeddings.word_embeddings.weight"), 1u);
  torch::Tensor image = model->encode_image(torch::randn({1, 3, 32, 32}));
  EXPECT_THROW(model->itm_logits(image, torch::ones({1, 3}, torch::kLong), {}), ModelError);
  EXPECT_THROW(model->text_features(torch::ones({1, 3}, torch::kLong), {}), ModelError);
}

TEST(BlipTest, CheckpointRoundTrip) {
  torch::NoGradGuard no_grad;
  BlipConfig c = small();
  c.text.tie_word_embeddings = false;
  Blip model(c);
  const std::string dir = std::string(test::kScratchDir) + "/blip_test_checkpoint";
  std::filesystem::remove_all(dir);
  save_checkpoint(model, dir);
  Blip back = load_model(dir);
  EXPECT_FALSE(back->config().text.tie_word_embeddings);
  torch::Tensor pixels = torch::randn({2, 3, 32, 32});
  torch::Tensor ids = torch::randint(3, 38, {2, 6});
  torch::Tensor a = model->lm_logits(model->encode_image(pixels), ids, {});
  torch::Tensor b = back->lm_logits(back->encode_image(pixels), ids, {});
  EXPECT_TRUE(torch::equal(a, b));
  // Shared parts stay shared after loading.
  EXPECT_EQ(back->text_encoder->word_embeddings->weight.data_ptr(),
            back->text_decoder->bert->word_embeddings->weight.data_ptr());
}

TEST(BlipTest, WithFirstToken) {
  torch::Tensor ids = torch::tensor({{2, 5, 6}, {2, 7, 0}});
  torch::Tensor enc = with_first_token(ids, 39);
  EXPECT_EQ(enc[0][0].item<int64_t>(), 39);
  EXPECT_EQ(enc[1][1].item<int64_t>(), 7);
  EXPECT_EQ(ids[0][0].item<int64_t>(), 2);  // input untouched
}

}  // namespace
}  // namespace capfilt::model
