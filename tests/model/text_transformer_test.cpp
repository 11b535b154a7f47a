// MED behaviour: the causal mask, the key/value cache, beam reordering and weight sharing.

#include <gtest/gtest.h>

#include <set>

#include "model/blip.h"
#include "model/text_transformer.h"

namespace capfilt::model {
namespace {

TextConfig small_text() {
  TextConfig c;
  c.vocab_size = 50;
  c.hidden = 32;
  c.layers = 2;
  c.heads = 4;
  c.intermediate = 64;
  c.max_positions = 32;
  c.tokens = SpecialTokens{0, 1, 2, 48, 49};
  return c;
}

BlipConfig small_blip(SharingMode sharing) {
  BlipConfig c = preset("tiny");
  c.vision = VisionConfig{32, 16, 32, 1, 4, 64, 1e-6};
  c.text = small_text();
  c.embed_dim = 16;
  c.sharing = sharing;
  return c;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

class TextTransformerTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(7); }
  torch::NoGradGuard no_grad_;
};

TEST_F(TextTransformerTest, CausalMaskBlocksTheFuture) {
  TextDecoder decoder(small_text(), 32);
  torch::Tensor image = torch::randn({2, 5, 32});
  torch::Tensor ids = torch::randint(3, 48, {2, 8});
  torch::Tensor changed = ids.clone();
  const int64_t t = 4;
  changed.select(1, t + 1).add_(1);
  torch::Tensor a = decoder->forward(ids, {}, image);
  torch::Tensor b = decoder->forward(changed, {}, image);
  EXPECT_EQ(max_diff(a.slice(1, 0, t + 1), b.slice(1, 0, t + 1)), 0.0);
  EXPECT_GT(max_diff(a.slice(1, t + 1), b.slice(1, t + 1)), 1e-4);

  // The bidirectional encoder mode does see the change at earlier positions.
  torch::Tensor ea = decoder->bert->forward(ids, {}, TextMode::kImageGrounded, image);
  torch::Tensor eb = decoder->bert->forward(changed, {}, TextMode::kImageGrounded, image);
  EXPECT_GT(max_diff(ea.slice(1, 0, t + 1), eb.slice(1, 0, t + 1)), 1e-4);
}

TEST_F(TextTransformerTest, UnimodalIgnoresTheImageAndGroundedUsesIt) {
  TextTransformer encoder(small_text(), 32);
  torch::Tensor ids = torch::randint(3, 48, {2, 6});
  torch::Tensor i1 = torch::randn({2, 5, 32}), i2 = torch::randn({2, 5, 32});
  EXPECT_EQ(max_diff(encoder->forward(ids, {}, TextMode::kUnimodal, i1),
                     encoder->forward(ids, {}, TextMode::kUnimodal, i2)), 0.0);
  EXPECT_GT(max_diff(encoder->forward(ids, {}, TextMode::kImageGrounded, i1),
                     encoder->forward(ids, {}, TextMode::kImageGrounded, i2)), 1e-4);
}

TEST_F(TextTransformerTest, PaddingIsMaskedOut) {
  TextTransformer encoder(small_text(), 32);
  torch::Tensor ids = torch::randint(3, 48, {1, 6});
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 0, 0}});
  torch::Tensor other = ids.clone();
  other.index_put_({0, 5}, 3);
  torch::Tensor a = encoder->forward(ids, mask, TextMode::kUnimodal);
  torch::Tensor b = encoder->forward(other, mask, TextMode::kUnimodal);
  EXPECT_LT(max_diff(a.slice(1, 0, 4), b.slice(1, 0, 4)), 1e-5);
}

TEST_F(TextTransformerTest, CachedDecodingEqualsFullPass) {
  TextDecoder decoder(small_text(), 32);
  torch::Tensor image = torch::randn({3, 5, 32});
  torch::Tensor image_mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 1, 1, 1, 0}});
  torch::Tensor ids = torch::randint(3, 48, {3, 9});
  torch::Tensor full = decoder->forward(ids, {}, image, image_mask);

  DecoderState state = decoder->start_decoding(image, image_mask);
  // Prompt of three tokens at once, then one token per step.
  torch::Tensor first = decoder->decode_step(ids.slice(1, 0, 3), state);
  EXPECT_LT(max_diff(first, full.select(1, 2)), 1e-5);
  for (int64_t t = 3; t < 9; ++t) {
    torch::Tensor step = decoder->decode_step(ids.slice(1, t, t + 1), state);
    EXPECT_LT(max_diff(step, full.select(1, t)), 1e-5) << "step " << t;
  }
  EXPECT_EQ(state.length(), 9);
  EXPECT_EQ(state.layers.at(0).self_k.size(2), 9);
  EXPECT_EQ(state.layers.at(0).cross_k.size(2), 5);
}

TEST_F(TextTransformerTest, ReorderExpandsAndPermutesRows) {
  TextDecoder decoder(small_text(), 32);
  torch::Tensor image = torch::randn({2, 5, 32});
  torch::Tensor ids = torch::randint(3, 48, {2, 4});
  DecoderState state = decoder->start_decoding(image);
  decoder->decode_step(ids.slice(1, 0, 3), state);
  // Expand to 2 beams per image, then swap the rows of image 1.
  state.reorder(torch::tensor({0, 0, 1, 1}));
  state.reorder(torch::tensor({1, 0, 3, 2}));
  ASSERT_EQ(state.batch_size(), 4);
  torch::Tensor next = decoder->decode_step(ids.index_select(0, torch::tensor({0, 0, 1, 1})).slice(1, 3, 4), state);
  torch::Tensor full = decoder->forward(ids, {}, image).select(1, 3);
  EXPECT_LT(max_diff(next.index_select(0, torch::tensor({0, 2})), full), 1e-5);
  EXPECT_LT(max_diff(next.index_select(0, torch::tensor({1, 3})), full), 1e-5);
}

TEST_F(TextTransformerTest, TooManyTokensIsAnError) {
  TextDecoder decoder(small_text(), 32);
  torch::Tensor image = torch::randn({1, 5, 32});
  EXPECT_THROW(decoder->forward(torch::ones({1, 33}, torch::kLong), {}, image), std::exception);
}

TEST_F(TextTransformerTest, BlipSharingUsesOneTensorForSharedParts) {
  Blip model(small_blip(SharingMode::kBlip));
  const TextTransformerImpl& enc = *model->text_encoder;
  const TextTransformerImpl& dec = *model->text_decoder->bert;
  EXPECT_EQ(enc.word_embeddings->weight.data_ptr(), dec.word_embeddings->weight.data_ptr());
  EXPECT_EQ(enc.layer(0).crossattention->query->weight.data_ptr(),
            dec.layer(0).crossattention->query->weight.data_ptr());
  EXPECT_EQ(enc.layer(1).intermediate->weight.data_ptr(), dec.layer(1).intermediate->weight.data_ptr());
  EXPECT_NE(enc.layer(0).attention->query->weight.data_ptr(),
            dec.layer(0).attention->query->weight.data_ptr());
  // Tied LM head: the output projection is the word-embedding matrix.
  EXPECT_EQ(model->text_decoder->decoder_weight.data_ptr(), enc.word_embeddings->weight.data_ptr());

  // Every parameter is registered once, under the encoder's name.
  std::set<const void*> seen;
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(seen.insert(item.value().unsafeGetTensorImpl()).second) << item.key();
    EXPECT_EQ(item.key().find("text_decoder.bert.embeddings"), std::string::npos) << item.key();
    EXPECT_EQ(item.key().find("text_decoder.bert.encoder.layer.0.crossattention"), std::string::npos);
  }

  // An update through the encoder's parameter changes what the decoder computes.
  torch::Tensor image = torch::randn({1, 5, 32});
  torch::Tensor ids = torch::randint(3, 48, {1, 5});
  torch::Tensor before = model->lm_logits(image, ids, {});
  enc.layer(0).crossattention->value->weight.add_(0.5);
  torch::Tensor after = model->lm_logits(image, ids, {});
  EXPECT_GT(max_diff(before, after), 1e-4);
}

TEST_F(TextTransformerTest, ShareAllAndSeparateModes) {
  Blip all(small_blip(SharingMode::kShareAll));
  EXPECT_EQ(all->text_encoder->layer(0).attention->query->weight.data_ptr(),
            all->text_decoder->bert->layer(0).attention->query->weight.data_ptr());
  Blip separate(small_blip(SharingMode::kSeparate));
  EXPECT_NE(separate->text_encoder->word_embeddings->weight.data_ptr(),
            separate->text_decoder->bert->word_embeddings->weight.data_ptr());
  EXPECT_NE(separate->text_encoder->layer(0).crossattention->key->weight.data_ptr(),
            separate->text_decoder->bert->layer(0).crossattention->key->weight.data_ptr());
  EXPECT_LT(parameter_count(*all), parameter_count(*separate));
}

}  // namespace
}  // namespace capfilt::model
