// The first-run demo models: trained once into a folder, then found there.

#include "core/demo_models.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

TEST(DemoModels, TrainedOnceThenCached) {
  const fs::path out = fs::path(test::kScratchDir) / "demo-models";
  fs::remove_all(out);
  DemoModelsOptions o;
  o.vocab = std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
  o.images = 40;
  o.image_size = 32;
  o.batch_size = 4;
  o.pretrain_steps = 2;
  o.captioner_steps = 1;
  o.filter_steps = 1;
  std::vector<std::string> stages;
  o.on_event = [&](const std::string& stage, const ProgressEvent& e) {
    if (e.kind == ProgressEventKind::kStart) stages.push_back(stage);
  };
  auto first = ensure_demo_models(out.string(), o);
  ASSERT_TRUE(first) << first.status().message();
  EXPECT_FALSE(first->cached);
  EXPECT_EQ(stages, (std::vector<std::string>{"pretrain", "captioner", "filter"}));
  for (const std::string& m : {first->captioner, first->filter, first->pretrained}) {
    EXPECT_TRUE(fs::exists(fs::path(m) / "model.safetensors")) << m;
    EXPECT_TRUE(fs::exists(fs::path(m) / "config.json")) << m;
  }
  EXPECT_TRUE(fs::exists(fs::path(first->data_dir) / "test.json"));
  // Recipe 5's ITC temperature floor reaches the stages that learn a temperature.
  for (const char* stage : {"pretrain", "filter"}) {
    std::ifstream config(out / "jobs" / stage / "config.json");
    ASSERT_TRUE(config) << stage;
    EXPECT_DOUBLE_EQ(nlohmann::json::parse(config).at("min_temperature").get<double>(), 0.05)
        << stage;
  }

  stages.clear();
  auto second = ensure_demo_models(out.string(), o);
  ASSERT_TRUE(second) << second.status().message();
  EXPECT_TRUE(second->cached);
  EXPECT_TRUE(stages.empty());
  EXPECT_EQ(second->captioner, first->captioner);
  EXPECT_EQ(second->filter, first->filter);

  // Models cached under an earlier recipe are not offered, and are trained again, on data made
  // again when the recipe's image count differs.
  const fs::path manifest = out / "demo-models.json";
  std::ifstream in(manifest);
  nlohmann::json j = nlohmann::json::parse(in);
  in.close();
  j["recipe"] = kDemoModelsRecipe - 1;
  std::ofstream(manifest, std::ios::trunc) << j.dump();
  EXPECT_FALSE(find_demo_models(out.string()));
  stages.clear();
  o.images = 48;
  auto third = ensure_demo_models(out.string(), o);
  ASSERT_TRUE(third) << third.status().message();
  EXPECT_FALSE(third->cached);
  EXPECT_EQ(stages, (std::vector<std::string>{"pretrain", "captioner", "filter"}));
  EXPECT_TRUE(find_demo_models(out.string()));
  std::ifstream labels(fs::path(third->data_dir) / "ground-truth" / "noise_labels.json");
  EXPECT_EQ(nlohmann::json::parse(labels)["generator"]["count"], 48);
}

}  // namespace
}  // namespace capfilt::core
