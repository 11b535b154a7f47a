// Export to Hugging Face folders (model/hf_export.h): the parity fixtures (written by transformers
// 4.29) go import -> export byte-identical with configs that say the same; a tiny model trained here
// for a few steps with `blip` sharing exports under exactly the fixtures' key layout and re-imports
// to the same outputs; models with no Hugging Face counterpart are refused with the reason.

#include "model/hf_export.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/error.h"
#include "model/pretrain.h"
#include "model/safetensors.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::string scratch(const std::string& name) {
  fs::create_directories(test::kScratchDir);
  return std::string(test::kScratchDir) + "/" + name;
}

std::string parity(const std::string& name) {
  return std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab/" + name;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// Every tensor of `a` is in `b` with the same dtype, shape and bytes, and nothing else is in `b`.
void expect_identical_files(const std::string& a, const std::string& b) {
  const SafetensorsFile fa = SafetensorsFile::read(a), fb = SafetensorsFile::read(b);
  ASSERT_EQ(fa.entries().size(), fb.entries().size());
  for (const auto& ea : fa.entries()) {
    SCOPED_TRACE(ea.name);
    const SafetensorsEntry* eb = fb.find(ea.name);
    ASSERT_NE(eb, nullptr);
    EXPECT_EQ(ea.dtype, eb->dtype);
    EXPECT_EQ(ea.shape, eb->shape);
    ASSERT_EQ(ea.num_bytes(), eb->num_bytes());
    EXPECT_EQ(std::memcmp(fa.data(ea), fb.data(*eb), ea.num_bytes()), 0);
  }
}

// Fields transformers reads must agree. Not compared: projection_dim (read by BlipModel only; the
// fixtures set a non-default one), tie_word_embeddings (the fixtures say true over untied tensors;
// the export says what the tensors are), torch_dtype and transformers_version (provenance).
void expect_same_fields(const json& ours, const json& theirs, const std::string& where) {
  static const std::set<std::string> skip = {"projection_dim", "tie_word_embeddings", "torch_dtype",
                                             "transformers_version"};
  for (const auto& [key, value] : ours.items()) {
    if (skip.count(key)) continue;
    SCOPED_TRACE(where + key);
    ASSERT_TRUE(theirs.contains(key));
    if (value.is_object()) {
      expect_same_fields(value, theirs.at(key), where + key + ".");
    } else {
      EXPECT_EQ(value, theirs.at(key));
    }
  }
}

TEST(HfExportTest, ParityFixturesComeBackByteIdentical) {
  for (const std::string kind : {"caption", "itm", "vqa"}) {
    SCOPED_TRACE(kind);
    const ImportedModel imported = import_hf_folder(parity(kind));
    const std::string out = scratch("export_" + kind);
    export_hf_folder(imported.model, imported.kind, out, parity(kind));
    expect_identical_files(parity(kind + "/model.safetensors"), out + "/model.safetensors");
    const json ours = read_json(out + "/config.json"), theirs = read_json(parity(kind + "/config.json"));
    expect_same_fields(ours, theirs, "");
    EXPECT_EQ(ours.at("architectures"), theirs.at("architectures"));
    const ImportedModel again = import_hf_folder(out);
    EXPECT_EQ(again.kind, imported.kind);
    EXPECT_EQ(config_to_json(again.model->config()), config_to_json(imported.model->config()));
  }
}

BlipConfig tiny_config(SharingMode sharing) {
  BlipConfig c = preset("tiny");
  c.vision.image_size = 32;
  c.text.vocab_size = 40;
  c.text.tokens = SpecialTokens{0, 1, 2, 38, 39};
  c.sharing = sharing;
  validate(c, "test");
  return c;
}

Blip trained_tiny_model() {
  torch::manual_seed(3);
  Blip model(tiny_config(SharingMode::kBlip));
  PretrainOptions options;
  Pretrainer trainer(model, options);
  PretrainBatch batch;
  batch.pixels = torch::randn({2, 3, 32, 32});
  batch.ids = torch::tensor({{1, 5, 6, 7, 2}, {1, 8, 9, 2, 0}}, torch::kInt64);
  batch.mask = (batch.ids != 0).to(torch::kInt64);
  batch.image_ids = torch::tensor({0, 1}, torch::kInt64);
  for (int i = 0; i < 3; ++i) trainer.step(batch);
  return model;
}

// Layer indices replaced, so that a 2-layer model's names compare with the fixtures' ones.
std::set<std::string> layout(const std::string& keys_file) {
  std::set<std::string> out;
  std::ifstream in(keys_file);
  std::string line;
  while (std::getline(in, line)) {
    out.insert(std::regex_replace(line.substr(0, line.find('\t')), std::regex(R"(\.\d+\.)"), ".N."));
  }
  return out;
}

std::set<std::string> layout(const NamedTensors& tensors) {
  std::set<std::string> out;
  for (const auto& [name, t] : tensors) out.insert(std::regex_replace(name, std::regex(R"(\.\d+\.)"), ".N."));
  return out;
}

TEST(HfExportTest, TrainedModelExportsUnderTheFixturesKeysAndReimportsToTheSameOutputs) {
  Blip model = trained_tiny_model();
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor pixels = torch::randn({2, 3, 32, 32});
  const torch::Tensor ids = torch::tensor({{38, 5, 6, 7, 2}, {38, 8, 9, 2, 0}}, torch::kInt64);
  const torch::Tensor mask = (ids != 0).to(torch::kInt64);
  const torch::Tensor image = model->encode_image(pixels);

  const std::pair<ImportedKind, std::string> kinds[] = {
      {ImportedKind::kCaptioner, "caption"}, {ImportedKind::kRetrieval, "itm"}, {ImportedKind::kQuestionAnswering, "vqa"}};
  for (const auto& [kind, fixture] : kinds) {
    SCOPED_TRACE(fixture);
    EXPECT_EQ(layout(export_hf_tensors(model, kind, "trained")), layout(parity(fixture + "/state_dict_keys.txt")));
    const std::string out = scratch("trained_" + fixture);
    export_hf_folder(model, kind, out, "trained");
    Blip back = import_hf_folder(out).model;
    back->eval();
    const torch::Tensor image_back = back->encode_image(pixels);
    EXPECT_TRUE(torch::equal(image_back, image));
    if (kind != ImportedKind::kRetrieval) {
      EXPECT_TRUE(torch::allclose(back->lm_logits(image_back, ids, mask), model->lm_logits(image, ids, mask), 0, 1e-6));
    }
    if (kind != ImportedKind::kCaptioner) {
      EXPECT_TRUE(torch::allclose(back->text_hidden(TextMode::kImageGrounded, ids, mask, image_back),
                                  model->text_hidden(TextMode::kImageGrounded, ids, mask, image), 0, 1e-6));
    }
    if (kind == ImportedKind::kRetrieval) {
      EXPECT_TRUE(torch::allclose(back->itm_logits(image_back, ids, mask), model->itm_logits(image, ids, mask), 0, 1e-6));
      EXPECT_TRUE(torch::allclose(back->text_features(ids, mask), model->text_features(ids, mask), 0, 1e-6));
    }
  }
}

TEST(HfExportTest, SharedTensorsAreDuplicatedUnderEachName) {
  const Blip model(tiny_config(SharingMode::kBlip));
  const NamedTensors t = export_hf_tensors(model, ImportedKind::kQuestionAnswering, "m");
  const std::string layer = "encoder.layer.1.crossattention.self.key.weight";
  EXPECT_TRUE(torch::equal(t.at("text_encoder." + layer), t.at("text_decoder.bert." + layer)));
  EXPECT_TRUE(torch::equal(t.at("text_decoder.cls.predictions.decoder.weight"),
                           t.at("text_encoder.embeddings.word_embeddings.weight")));
  EXPECT_TRUE(torch::equal(t.at("text_decoder.cls.predictions.decoder.bias"), t.at("text_decoder.cls.predictions.bias")));
  // The self-attention is the decoder's own.
  const std::string self = "encoder.layer.0.attention.self.query.weight";
  EXPECT_FALSE(torch::equal(t.at("text_encoder." + self), t.at("text_decoder.bert." + self)));
}

TEST(HfExportTest, ModelsWithoutAHuggingFaceCounterpartAreRefused) {
  const Blip share_all(tiny_config(SharingMode::kShareAll));
  try {
    export_hf_tensors(share_all, ImportedKind::kCaptioner, "share-all-model");
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("share-all-model"));
    EXPECT_THAT(e.what(), HasSubstr("self-attention"));
  }
  // Its encoder alone is a retrieval model.
  EXPECT_NO_THROW(export_hf_tensors(share_all, ImportedKind::kRetrieval, "share-all-model"));
  EXPECT_THROW(hf_kind_of(share_all->config(), "full"), ModelError);
  EXPECT_THROW(export_hf_tensors(share_all, ImportedKind::kPretrained, "full"), ModelError);
  BlipConfig captioner = tiny_config(SharingMode::kBlip);
  captioner.components = Components{true, false, true, false, false};
  EXPECT_EQ(hf_kind_of(captioner, "c"), ImportedKind::kCaptioner);
  const Blip caption_only(captioner);
  try {
    export_hf_tensors(caption_only, ImportedKind::kRetrieval, "captioner");
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("lacks the text encoder, the ITM head, the ITC projections"));
  }
}

}  // namespace
}  // namespace capfilt::model
