// Importing Hugging Face and Salesforce BLIP weights: name mapping, configs, and refusals.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/checkpoint.h"
#include "model/error.h"
#include "model/hf_import.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& model) {
  return std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab/" + model;
}

// A scratch copy of a fixture folder whose tensors `edit` may change.
std::string edited_copy(const std::string& model, const std::string& name,
                        const std::function<void(NamedTensors&)>& edit,
                        const std::string& config_text = "") {
  const std::string dir = std::string(test::kScratchDir) + "/hf_import_test_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  if (config_text.empty()) {
    fs::copy_file(fixture(model) + "/config.json", dir + "/config.json");
  } else {
    std::ofstream(dir + "/config.json") << config_text;
  }
  NamedTensors tensors = load_safetensors(fixture(model) + "/model.safetensors");
  edit(tensors);
  save_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(HfImportTest, MapsNames) {
  EXPECT_EQ(map_hf_name("vision_model.encoder.layers.3.self_attn.qkv.weight"),
            "visual_encoder.blocks.3.attn.qkv.weight");
  EXPECT_EQ(map_hf_name("vision_model.encoder.layers.0.self_attn.projection.bias"),
            "visual_encoder.blocks.0.attn.proj.bias");
  EXPECT_EQ(map_hf_name("vision_model.embeddings.class_embedding"), "visual_encoder.cls_token");
  EXPECT_EQ(map_hf_name("vision_model.post_layernorm.weight"), "visual_encoder.norm.weight");
  EXPECT_EQ(map_hf_name("vision_model.encoder.layers.1.layer_norm2.bias"),
            "visual_encoder.blocks.1.norm2.bias");
  EXPECT_EQ(map_hf_name("text_encoder.encoder.layer.0.crossattention.self.key.weight"),
            "text_encoder.encoder.layer.0.crossattention.self.key.weight");
  EXPECT_EQ(map_hf_name("text_decoder.bert.embeddings.position_ids"), "");
}

TEST(HfImportTest, ReadsTheConfig) {
  ImportedKind kind;
  BlipConfig c = config_from_hf(fixture("vqa") + "/config.json", &kind);
  EXPECT_EQ(kind, ImportedKind::kQuestionAnswering);
  EXPECT_EQ(c.sharing, SharingMode::kSeparate);
  EXPECT_EQ(c.vision.image_size, 32);
  EXPECT_EQ(c.vision.patch_size, 8);
  EXPECT_DOUBLE_EQ(c.vision.layer_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.text.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.text.vocab_size, 28);
  EXPECT_EQ(c.text.tokens.dec, 26);
  EXPECT_EQ(c.text.tokens.enc, 27);
  EXPECT_EQ(c.text.tokens.sep, 3);
  c = config_from_hf(fixture("itm") + "/config.json", &kind);
  EXPECT_EQ(kind, ImportedKind::kRetrieval);
  EXPECT_EQ(c.embed_dim, 16);
  EXPECT_FALSE(c.components.text_decoder);
}

TEST(HfImportTest, RefusesMissingFilesAndUnsupportedModels) {
  const std::string empty = std::string(test::kScratchDir) + "/hf_import_test_empty";
  fs::create_directories(empty);
  EXPECT_NE(error_of([&] { import_hf_folder(empty); }).find("config.json"), std::string::npos);
  const std::string no_weights = std::string(test::kScratchDir) + "/hf_import_test_noweights";
  fs::create_directories(no_weights);
  fs::copy_file(fixture("itm") + "/config.json", no_weights + "/config.json",
                fs::copy_options::overwrite_existing);
  EXPECT_NE(error_of([&] { import_hf_folder(no_weights); }).find("model.safetensors"),
            std::string::npos);
  const std::string clip = edited_copy("itm", "clip", [](NamedTensors&) {},
                                       R"({"model_type": "clip", "architectures": ["CLIPModel"]})");
  EXPECT_NE(error_of([&] { import_hf_folder(clip); }).find("clip"), std::string::npos);
  const std::string other = edited_copy("itm", "other", [](NamedTensors&) {},
                                        R"({"model_type": "blip", "architectures": ["BlipModel"]})");
  EXPECT_NE(error_of([&] { import_hf_folder(other); }).find("BlipModel"), std::string::npos);
}

TEST(HfImportTest, RefusesMissingExtraAndMisshapenTensors) {
  const std::string missing = edited_copy("itm", "missing", [](NamedTensors& t) {
    t.erase("text_encoder.encoder.layer.1.output.dense.bias");
  });
  EXPECT_NE(error_of([&] { import_hf_folder(missing); })
                .find("text_encoder.encoder.layer.1.output.dense.bias"),
            std::string::npos);
  const std::string extra = edited_copy("itm", "extra", [](NamedTensors& t) {
    t["vision_model.encoder.layers.0.self_attn.rotary.weight"] = torch::zeros({2});
  });
  EXPECT_NE(error_of([&] { import_hf_folder(extra); })
                .find("vision_model.encoder.layers.0.self_attn.rotary.weight"),
            std::string::npos);
  const std::string shape = edited_copy("itm", "shape", [](NamedTensors& t) {
    t["itm_head.weight"] = torch::zeros({3, 32});
  });
  EXPECT_NE(error_of([&] { import_hf_folder(shape); }).find("itm_head.weight"), std::string::npos);
}

TEST(HfImportTest, ImportedCheckpointRoundTripsThroughOurFormat) {
  torch::NoGradGuard no_grad;
  Blip model = import_hf_folder(fixture("vqa")).model;
  const std::string dir = std::string(test::kScratchDir) + "/hf_import_test_saved";
  fs::remove_all(dir);
  save_checkpoint(model, dir);
  Blip back = load_model(dir);
  EXPECT_EQ(back->config().sharing, SharingMode::kSeparate);
  const NamedTensors a = state_dict(*model), b = state_dict(*back);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

// A Salesforce-style state dict lists shared modules under both parents and carries the
// pre-training state; the importer must recover the sharing and drop the rest.
TEST(HfImportTest, SalesforceStateDictWithAliases) {
  torch::NoGradGuard no_grad;
  BlipConfig c = preset("tiny");
  c.vision = VisionConfig{32, 16, 64, 1, 1, 64, 1e-6};
  c.text.hidden = 64;  // one head of 64, as the importer infers heads = width / 64
  c.text.layers = 1;
  c.text.heads = 1;
  c.text.intermediate = 64;
  c.embed_dim = 16;
  Blip model(c);
  NamedTensors file = state_dict(*model);
  const std::string enc = "text_encoder.", dec = "text_decoder.bert.";
  for (const auto& [name, tensor] : state_dict(*model->text_encoder)) {
    if (name.find(".attention.") == std::string::npos) file[dec + name] = tensor;
  }
  file["text_decoder.cls.predictions.decoder.weight"] =
      model->text_encoder->word_embeddings->weight;
  file["text_decoder.cls.predictions.decoder.bias"] = model->text_decoder->bias;
  file["image_queue"] = torch::zeros({16, 4});
  file["visual_encoder_m.pos_embed"] = model->visual_encoder->pos_embed;
  ImportedModel imported = import_salesforce_state_dict(file, "test.pth");
  const BlipConfig& got = imported.model->config();
  EXPECT_EQ(got.sharing, SharingMode::kBlip);
  EXPECT_TRUE(got.text.tie_word_embeddings);
  EXPECT_EQ(got.vision.image_size, 32);
  EXPECT_EQ(got.text.layers, 1);
  const NamedTensors a = state_dict(*model), b = state_dict(*imported.model);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;

  // A decoder copy that differs from the encoder's cannot be an alias.
  file[dec + "encoder.layer.0.intermediate.dense.bias"] =
      file[enc + "encoder.layer.0.intermediate.dense.bias"] + 1;
  EXPECT_NE(error_of([&] { import_salesforce_state_dict(file, "test.pth"); })
                .find("encoder.layer.0.intermediate.dense.bias"),
            std::string::npos);
}

}  // namespace
}  // namespace capfilt::model
