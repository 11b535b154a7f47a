#include "core/demo_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
json load(const fs::path& p) { return json::parse(slurp(p)); }

class DemoDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::path(test::kScratchDir) / "demo_data";
    fs::remove_all(root_);
    fs::create_directories(root_);
    options_.seed = 5;
    options_.count = 120;
    options_.noise = 0.3;
    options_.image_size = 32;
    first_ = generate_demo_data((root_ / "a").string(), options_);
  }
  static fs::path root_;
  static DemoDataOptions options_;
  static Result<DemoDataSummary> first_;
};
fs::path DemoDataTest::root_;
DemoDataOptions DemoDataTest::options_;
Result<DemoDataSummary> DemoDataTest::first_ = Status::invalid("not run");

TEST_F(DemoDataTest, SameSeedSameFiles) {
  ASSERT_TRUE(first_) << first_.status().message();
  ASSERT_TRUE(generate_demo_data((root_ / "b").string(), options_));
  std::size_t compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "a")) {
    if (!entry.is_regular_file()) continue;
    fs::path rel = fs::relative(entry.path(), root_ / "a");
    ASSERT_TRUE(fs::exists(root_ / "b" / rel)) << rel;
    EXPECT_EQ(slurp(entry.path()), slurp(root_ / "b" / rel)) << rel;
    ++compared;
  }
  EXPECT_EQ(compared, 120u + 10u);  // images + 9 JSON files + README
  DemoDataOptions other = options_;
  other.seed = 6;
  ASSERT_TRUE(generate_demo_data((root_ / "c").string(), other));
  EXPECT_NE(slurp(root_ / "a" / "web_train.json"), slurp(root_ / "c" / "web_train.json"));
}

TEST_F(DemoDataTest, SplitsAndSubsets) {
  ASSERT_TRUE(first_);
  const DemoDataSummary& s = first_.value();
  EXPECT_EQ(s.images, 120);
  EXPECT_EQ(s.test, 12);
  EXPECT_EQ(s.val, 12);
  EXPECT_EQ(s.human, 19);  // round(96 * 0.2)
  EXPECT_EQ(s.web, 96 - 19);
  std::set<std::string> seen;
  for (const char* f : {"human_train.json", "web_train.json", "val.json", "test.json"}) {
    for (const json& e : load(root_ / "a" / f)) {
      EXPECT_TRUE(seen.insert(e["image"].get<std::string>()).second) << "image in two splits";
      EXPECT_TRUE(fs::exists(root_ / "a" / e["image"].get<std::string>()));
    }
  }
  EXPECT_EQ(seen.size(), 120u);
  for (const json& e : load(root_ / "a" / "val.json")) EXPECT_EQ(e["caption"].size(), 3u);
}

TEST_F(DemoDataTest, NoiseFractionAndLabelsKeptApart) {
  ASSERT_TRUE(first_);
  json web = load(root_ / "a" / "web_train.json");
  json labels = load(root_ / "a" / "ground-truth" / "noise_labels.json")["captions"];
  ASSERT_EQ(web.size(), labels.size());
  int noisy = 0;
  std::map<std::string, int> kinds;
  for (std::size_t i = 0; i < web.size(); ++i) {
    EXPECT_EQ(web[i].size(), 2u) << "the annotation must hold only image and caption";
    EXPECT_EQ(web[i]["caption"], labels[i]["caption"]);
    if (labels[i]["noisy"].get<bool>()) {
      ++noisy;
      ++kinds[labels[i]["noise_kind"].get<std::string>()];
      EXPECT_NE(labels[i]["caption"], labels[i]["clean_caption"]);
    } else {
      EXPECT_EQ(labels[i]["caption"], labels[i]["clean_caption"]);
    }
  }
  EXPECT_EQ(noisy, 23);  // round(0.3 * 77)
  EXPECT_EQ(first_->noisy, 23);
  EXPECT_GE(kinds.size(), 3u);
  std::string all = slurp(root_ / "a" / "web_train.json") + slurp(root_ / "a" / "human_train.json");
  EXPECT_EQ(all.find("noisy"), std::string::npos);
}

TEST(DemoData, EveryNoiseKindAppearsAtScale) {
  fs::path dir = fs::path(test::kScratchDir) / "demo_data_kinds";
  fs::remove_all(dir);
  DemoDataOptions o;
  o.seed = 9;
  o.count = 300;
  o.noise = 0.5;
  o.image_size = 16;
  Result<DemoDataSummary> r = generate_demo_data(dir.string(), o);
  ASSERT_TRUE(r) << r.status().message();
  std::set<std::string> kinds;
  const json labels = load(dir / "ground-truth" / "noise_labels.json");
  for (const json& l : labels["captions"]) {
    kinds.insert(l["noise_kind"].get<std::string>());
    if (l["noise_kind"] == "over_long") EXPECT_GT(l["caption"].get<std::string>().size(), 300u);
    if (l["noise_kind"] == "empty") EXPECT_EQ(l["caption"], "");
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"none", "other_image", "wrong_attribute", "web_text", "empty", "over_long"}));
}

TEST_F(DemoDataTest, VqaAnswersMatchTheScenes) {
  ASSERT_TRUE(first_);
  std::map<std::string, json> scenes;
  for (const json& s : load(root_ / "a" / "ground-truth" / "scenes.json")) scenes[s["image"]] = s;
  int count_questions = 0;
  std::set<std::string> kinds;
  for (const char* f : {"vqa_train.json", "vqa_val.json", "vqa_test.json"}) {
    for (const json& q : load(root_ / "a" / f)) {
      kinds.insert(q["kind"].get<std::string>());
      if (q["question"] == "how many shapes are there?") {
        ++count_questions;
        EXPECT_EQ(q["answer"][0], std::to_string(scenes.at(q["image"])["shapes"].size()));
      }
    }
  }
  EXPECT_EQ(count_questions, 120);
  EXPECT_EQ(kinds, (std::set<std::string>{"count", "colour", "shape", "position", "existence"}));
}

TEST(DemoData, CaptionsDescribeTheScene) {
  DemoScene sc;
  sc.background = "white";
  sc.shapes = {{"circle", "red", "medium", 0.2, 0.5, 0.1}, {"square", "blue", "small", 0.8, 0.5, 0.1}};
  EXPECT_EQ(describe_demo_scene(sc, 0), "a red circle to the left of a small blue square");
  EXPECT_EQ(describe_demo_scene(sc, 4), "a small blue square to the right of a red circle");
  sc.shapes = {{"triangle", "orange", "large", 0.8, 0.2, 0.1}};
  EXPECT_EQ(describe_demo_scene(sc, 2), "a large orange triangle in the top right corner");
  EXPECT_EQ(describe_demo_scene(sc, 3), "there is an orange triangle in the top right corner");
}

TEST(DemoData, RenderedShapesHaveTheirColour) {
  DemoScene sc;
  sc.background = "black";
  sc.shapes = {{"square", "yellow", "large", 0.5, 0.5, 0.25}};
  std::mt19937 rng(1);
  RgbImage img = render_demo_scene(sc, 64, rng);
  const std::uint8_t* centre = img.at(32, 32);
  EXPECT_NEAR(centre[0], 240, 2);
  EXPECT_NEAR(centre[1], 210, 2);
  EXPECT_NEAR(centre[2], 40, 2);
  EXPECT_LT(img.at(2, 2)[0], 60);  // background
}

TEST(DemoData, RefusesANonEmptyFolder) {
  fs::path dir = fs::path(test::kScratchDir) / "demo_data_busy";
  fs::create_directories(dir);
  std::ofstream(dir / "keep.txt") << "mine";
  DemoDataOptions o;
  o.count = 3;
  Result<DemoDataSummary> r = generate_demo_data(dir.string(), o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(fs::exists(dir / "keep.txt"));
}

}  // namespace
}  // namespace capfilt::core
