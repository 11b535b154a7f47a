// The model facade (core/blip_engine.h) against model/ used directly, on the tiny-vocabulary parity
// models: the same caption ids and the same ITM/ITC scores; and its refusals.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/blip_engine.h"
#include "model/generation.h"
#include "model/hf_import.h"
#include "model/scoring.h"
#include "model/tokenizer.h"
#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

const std::string kParity = std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab";
const std::string kVocab = kParity + "/tiny_vocab.txt";
const std::vector<std::string> kCaptions = {"a picture of a cat sitting on the mat.",
                                            "two dogs playing"};

std::vector<std::vector<float>> rows_of(const torch::Tensor& pixels) {
  auto c = pixels.contiguous();
  std::vector<std::vector<float>> rows;
  for (int64_t i = 0; i < c.size(0); ++i) {
    const float* p = c[i].data_ptr<float>();
    rows.emplace_back(p, p + c[i].numel());
  }
  return rows;
}

std::unique_ptr<BlipEngine> open_engine(const std::string& model, const std::string& vocab = kVocab) {
  auto engine = BlipEngine::open({kParity + "/" + model, vocab, "cpu"});
  EXPECT_TRUE(engine.is_ok()) << engine.status().message();
  return engine ? std::move(engine).value() : nullptr;
}

torch::Tensor reference_pixels(const std::string& model) {
  return model::load_safetensors(kParity + "/" + model + "/reference.safetensors").at("pixel_values");
}

TEST(BlipEngine, FilterScoresEqualTheModelsOwn) {
  auto engine = open_engine("itm");
  ASSERT_TRUE(engine);
  EXPECT_TRUE(engine->info().can_match);
  EXPECT_TRUE(engine->info().can_embed);
  EXPECT_FALSE(engine->info().can_caption);
  const torch::Tensor pixels = reference_pixels("itm");
  auto images = engine->encode_pixels(rows_of(pixels));
  ASSERT_TRUE(images.is_ok()) << images.status().message();
  auto scores = engine->score(images.value(), {{0, kCaptions[0]}, {1, kCaptions[1]}, {1, kCaptions[0]}});
  ASSERT_TRUE(scores.is_ok()) << scores.status().message();

  // The same through model/ directly (Hugging Face checkpoints start ITM with [CLS]).
  torch::NoGradGuard no_grad;
  model::Blip blip = model::import_hf_folder(kParity + "/itm").model;
  auto tok = model::Tokenizer::from_vocab_file(kVocab);
  model::Scorer scorer(blip, model::ItmFirstToken::kCls);
  const std::vector<std::string> texts = {kCaptions[0], kCaptions[1], kCaptions[0]};
  auto enc = tok.encode_batch(texts, {true, model::Padding::kLongest, 35});
  model::TextBatch batch{torch::tensor(enc.input_ids).view({3, -1}),
                         torch::tensor(enc.attention_mask).view({3, -1})};
  auto image_enc = scorer.encode_images(pixels.index_select(0, torch::tensor({0, 1, 1})));
  auto itm = scorer.itm_probability(image_enc, batch);
  auto itc = model::Scorer::pair_similarity(image_enc.embedding, scorer.text_embeddings(batch));
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(scores.value()[i].itm, itm[i].item<double>(), 1e-6) << i;
    EXPECT_NEAR(scores.value()[i].itc, itc[i].item<double>(), 1e-6) << i;
  }
  // And the Hugging Face reference values for the matched pairs.
  auto ref = model::load_safetensors(kParity + "/itm/reference.safetensors");
  EXPECT_NEAR(scores.value()[0].itm, ref.at("itm_probs")[0][1].item<double>(), 1e-5);
  EXPECT_NEAR(scores.value()[1].itc, ref.at("itc_similarity")[1][1].item<double>(), 1e-5);

  auto image_emb = engine->image_embeddings(images.value());
  auto text_emb = engine->text_embeddings({kCaptions[1]});
  ASSERT_TRUE(image_emb && text_emb);
  double dot = 0;
  for (size_t d = 0; d < text_emb.value()[0].size(); ++d) {
    dot += image_emb.value()[1][d] * text_emb.value()[0][d];
  }
  EXPECT_NEAR(dot, scores.value()[1].itc, 1e-5);
}

TEST(BlipEngine, GreedyCaptionEqualsTheModelsOwn) {
  auto engine = open_engine("caption");
  ASSERT_TRUE(engine);
  const torch::Tensor pixels = reference_pixels("caption");
  auto images = engine->encode_pixels(rows_of(pixels));
  ASSERT_TRUE(images.is_ok());
  CaptionOptions o;
  o.method = CaptionMethod::kGreedy;
  o.prompt = "a picture of ";
  o.max_length = 14;
  o.min_length = 0;
  auto captions = engine->caption(images.value(), o);
  ASSERT_TRUE(captions.is_ok()) << captions.status().message();

  model::Blip blip = model::import_hf_folder(kParity + "/caption").model;
  auto tok = model::Tokenizer::from_vocab_file(kVocab);
  model::GenerationOptions g;
  g.method = model::DecodingMethod::kGreedy;
  g.max_length = 14;
  g.min_length = 0;
  g.prompt_ids = tok.encode("a picture of ", false);
  auto out = model::generate_captions(*blip, pixels, g);
  ASSERT_EQ(captions.value().size(), 2u);
  for (int64_t i = 0; i < 2; ++i) {
    ASSERT_EQ(captions.value()[i].size(), 1u);
    EXPECT_EQ(captions.value()[i][0].text, tok.decode(out.generated(i)));
    EXPECT_NEAR(captions.value()[i][0].log_prob, out.log_probs[i].item<double>(), 1e-5);
  }
}

TEST(BlipEngine, SeveralThreadsCaptionWithOneEngine) {
  auto engine = open_engine("caption");
  ASSERT_TRUE(engine);
  auto images = engine->encode_pixels(rows_of(reference_pixels("caption")));
  ASSERT_TRUE(images.is_ok());
  CaptionOptions o;  // nucleus, seeded
  o.seed = 7;
  o.num_captions = 2;
  auto expected = engine->caption(images.value(), o);
  ASSERT_TRUE(expected.is_ok());
  std::vector<std::vector<std::vector<GeneratedText>>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { got[t] = engine->caption(images.value(), o).value(); });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) {
    for (size_t i = 0; i < g.size(); ++i) {
      for (size_t k = 0; k < g[i].size(); ++k) EXPECT_EQ(g[i][k].text, expected.value()[i][k].text);
    }
  }
}

TEST(BlipEngine, WithImageSeedsAnImagesSamplesDoNotDependOnItsBatch) {
  auto engine = open_engine("caption");
  ASSERT_TRUE(engine);
  auto both = engine->encode_pixels(rows_of(reference_pixels("caption")));
  ASSERT_TRUE(both.is_ok());
  auto second = engine->select(both.value(), {1});
  ASSERT_TRUE(second.is_ok());
  CaptionOptions o;
  o.num_captions = 3;
  o.min_length = 6;
  o.max_length = 12;
  o.image_seeds = {11, 22};
  auto together = engine->caption(both.value(), o);
  o.image_seeds = {22};
  auto alone = engine->caption(second.value(), o);
  ASSERT_TRUE(together.is_ok() && alone.is_ok());
  for (int k = 0; k < 3; ++k) EXPECT_EQ(together.value()[1][k].text, alone.value()[0][k].text);
  o.image_seeds = {23};
  auto other_seed = engine->caption(second.value(), o);
  bool differs = false;
  for (int k = 0; k < 3; ++k) differs |= other_seed.value()[0][k].text != alone.value()[0][k].text;
  EXPECT_TRUE(differs);
  o.image_seeds = {1, 2, 3};  // not one per image
  EXPECT_FALSE(engine->caption(second.value(), o).is_ok());
}

TEST(BlipEngine, RefusesWhatCannotWorkWithAClearMessage) {
  auto missing = BlipEngine::open({"/nonexistent/model", kVocab, "cpu"});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/model"), std::string::npos);

  // The bert-base-uncased vocabulary does not fit the tiny-vocabulary model.
  const std::string bert = std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
  auto mismatched = BlipEngine::open({kParity + "/caption", bert, "cpu"});
  ASSERT_FALSE(mismatched.is_ok());
  EXPECT_NE(mismatched.status().message().find("vocabulary"), std::string::npos)
      << mismatched.status().message();

  auto bad_device = BlipEngine::open({kParity + "/caption", kVocab, "tpu"});
  EXPECT_FALSE(bad_device.is_ok());

  auto captioner = open_engine("caption");
  ASSERT_TRUE(captioner);
  auto images = captioner->encode_pixels(rows_of(reference_pixels("caption")));
  ASSERT_TRUE(images.is_ok());
  auto scored = captioner->score(images.value(), {{0, "a cat"}});
  EXPECT_EQ(scored.status().code(), Status::Code::kUnsupported);

  auto wrong_size = captioner->encode_pixels({std::vector<float>(12, 0.f)});
  EXPECT_EQ(wrong_size.status().code(), Status::Code::kInvalid);

  CaptionOptions impossible;
  impossible.top_p = 1.5f;
  auto refused = captioner->caption(images.value(), impossible);
  EXPECT_FALSE(refused.is_ok());

  fs::create_directories(test::kScratchDir);
  const std::string not_image = test::kScratchDir + "/not-an-image.jpg";
  std::ofstream(not_image) << "hello";
  auto from_file = captioner->encode_files({not_image});
  ASSERT_FALSE(from_file.is_ok());
  EXPECT_NE(from_file.status().message().find("not-an-image.jpg"), std::string::npos);

  auto filter = open_engine("itm");
  ASSERT_TRUE(filter);
  auto foreign = filter->score(images.value(), {{0, "a cat"}});
  EXPECT_EQ(foreign.status().code(), Status::Code::kInvalid);  // encoded by the captioner
}

TEST(BlipEngine, AnswersAndRanksQuestions) {
  auto engine = open_engine("vqa");
  ASSERT_TRUE(engine);
  EXPECT_TRUE(engine->info().can_answer);
  auto images = engine->encode_pixels(rows_of(reference_pixels("vqa")));
  ASSERT_TRUE(images.is_ok());
  CaptionOptions o;
  o.method = CaptionMethod::kGreedy;
  o.max_length = 6;
  o.min_length = 1;
  auto answer = engine->answer(images.value(), 0, "what is the cat doing?", o);
  ASSERT_TRUE(answer.is_ok()) << answer.status().message();
  ASSERT_EQ(answer.value().size(), 1u);
  auto ranked = engine->rank_answers(images.value(), 0, "what is the cat doing?",
                                     {"sitting", "two", answer.value()[0].text});
  ASSERT_TRUE(ranked.is_ok()) << ranked.status().message();
  ASSERT_EQ(ranked.value().size(), 3u);
  EXPECT_GE(ranked.value()[0].log_prob, ranked.value()[1].log_prob);
  EXPECT_GE(ranked.value()[1].log_prob, ranked.value()[2].log_prob);
}

}  // namespace
}  // namespace capfilt::core
