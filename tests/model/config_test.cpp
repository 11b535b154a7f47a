#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/config.h"
#include "model/error.h"
#include "test_paths.h"

namespace capfilt::model {
namespace {

std::string scratch(const std::string& name) {
  std::filesystem::create_directories(test::kScratchDir);
  return std::string(test::kScratchDir) + "/config_test_" + name;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigTest, PresetsMatchThePaper) {
  const BlipConfig base = preset("base");
  EXPECT_EQ(base.vision.hidden, 768);
  EXPECT_EQ(base.vision.depth, 12);
  EXPECT_EQ(base.vision.patch_size, 16);
  EXPECT_EQ(base.text.hidden, 768);
  EXPECT_EQ(base.text.layers, 12);
  EXPECT_EQ(base.text.vocab_size, 30524);
  EXPECT_EQ(base.embed_dim, 256);
  EXPECT_DOUBLE_EQ(base.momentum, 0.995);
  EXPECT_DOUBLE_EQ(base.label_smoothing, 0.1);
  EXPECT_DOUBLE_EQ(base.alpha, 0.4);
  EXPECT_EQ(base.sharing, SharingMode::kBlip);
  EXPECT_EQ(preset("base", 384).vision.image_size, 384);
  EXPECT_EQ(preset("large").vision.hidden, 1024);
  EXPECT_EQ(preset("large").vision.depth, 24);
  EXPECT_EQ(preset("large").cross_width(), 1024);
  const BlipConfig tiny = preset("tiny");
  EXPECT_EQ(tiny.text.vocab_size, 30524);
  EXPECT_LE(tiny.vision.image_size, 64);
  EXPECT_THROW(preset("huge"), ModelError);
}

TEST(ConfigTest, JsonRoundTrip) {
  BlipConfig c = preset("tiny");
  c.sharing = SharingMode::kShareAll;
  c.components.itm_head = false;
  c.text.tie_word_embeddings = false;
  c.vision.layer_norm_eps = 1e-5;
  const std::string path = scratch("round_trip.json");
  save_config(c, path);
  const BlipConfig back = load_config(path);
  EXPECT_EQ(config_to_json(back), config_to_json(c));
  EXPECT_EQ(back.sharing, SharingMode::kShareAll);
  EXPECT_FALSE(back.components.itm_head);
  EXPECT_DOUBLE_EQ(back.vision.layer_norm_eps, 1e-5);
}

TEST(ConfigTest, BadFilesNameTheFileAndTheProblem) {
  EXPECT_NE(error_of([] { load_config(scratch("absent.json")); }).find("absent.json"),
            std::string::npos);
  const std::string malformed = scratch("malformed.json");
  write(malformed, "{\"name\": ");
  EXPECT_NE(error_of([&] { load_config(malformed); }).find("malformed JSON"), std::string::npos);

  std::string text = config_to_json(preset("tiny"));
  const std::string missing = scratch("missing.json");
  std::string without = text;
  without.replace(without.find("\"depth\""), 7, "\"dpth\"");
  write(missing, without);
  const std::string message = error_of([&] { load_config(missing); });
  EXPECT_NE(message.find("missing.json"), std::string::npos);
  EXPECT_NE(message.find("vision.depth"), std::string::npos);

  const std::string mistyped = scratch("mistyped.json");
  std::string typed = text;
  typed.replace(typed.find("\"sharing\": \"blip\""), 17, "\"sharing\": \"most\"");
  write(mistyped, typed);
  EXPECT_NE(error_of([&] { load_config(mistyped); }).find("most"), std::string::npos);
}

TEST(ConfigTest, InconsistentConfigsAreRejected) {
  BlipConfig c = preset("tiny");
  c.text.heads = 5;
  EXPECT_THROW(validate(c, "x"), ModelError);
  c = preset("tiny");
  c.vision.image_size = 70;
  EXPECT_THROW(validate(c, "x"), ModelError);
  c = preset("tiny");
  c.components.text_encoder = false;
  EXPECT_THROW(validate(c, "x"), ModelError);  // ITM head without the encoder
}

}  // namespace
}  // namespace capfilt::model
