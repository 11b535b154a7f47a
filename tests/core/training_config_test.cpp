// The training job's config file: strict JSON (unknown keys and wrong types name file and field).

#include <gtest/gtest.h>

#include "core/training_job.h"

namespace capfilt::core {
namespace {

TEST(TrainingConfig, RoundTripsThroughJson) {
  TrainJobConfig c;
  c.task = TrainTask::kFilter;
  c.steps = 12;
  c.batch_size = 4;
  c.lr = 2e-4;
  c.data.sources = {"human"};
  c.data.decisions = {"keep"};
  c.data.itm_min = 0.5;
  c.seed = 7;
  c.crop_min_scale = 1.0;
  c.horizontal_flip = false;
  c.patch_size = 8;
  auto back = train_config_from_json(to_json(c), "config.json");
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(to_json(*back), to_json(c));
  EXPECT_EQ(back->task, TrainTask::kFilter);
  ASSERT_TRUE(back->data.itm_min.has_value());
  EXPECT_DOUBLE_EQ(*back->data.itm_min, 0.5);
  EXPECT_FALSE(back->data.itm_max.has_value());
  EXPECT_FALSE(back->horizontal_flip);
  EXPECT_DOUBLE_EQ(back->crop_min_scale, 1.0);
}

TEST(TrainingConfig, AugmentationIsBlipsUnlessTurnedOffAndTheCropScaleIsChecked) {
  auto c = train_config_from_json(R"({"steps": 3})", "c.json");
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_DOUBLE_EQ(c->crop_min_scale, 0.5);  // RandomResizedCrop(scale=(0.5, 1))
  EXPECT_TRUE(c->horizontal_flip);
  for (const char* text : {R"({"steps": 3, "crop_min_scale": 0})", R"({"steps": 3, "crop_min_scale": 1.5})"}) {
    auto bad = train_config_from_json(text, "config.json");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.status().message().find("'crop_min_scale'"), std::string::npos) << text;
  }
  auto flip = train_config_from_json(R"({"steps": 3, "horizontal_flip": "no"})", "c.json");
  ASSERT_FALSE(flip);
  EXPECT_NE(flip.status().message().find("'horizontal_flip'"), std::string::npos);
}

TEST(TrainingConfig, TextNegativesAreOffByDefaultAndOnlyForTasksWithItm) {
  auto c = train_config_from_json(R"({"steps": 3})", "c.json");
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_FALSE(c->text_negatives);
  auto with_task = [](const char* task) {
    return std::string(R"({"steps": 3, "text_negatives": true, "task": ")") + task + "\"}";
  };
  for (const char* task : {"pretrain", "filter"}) {
    auto on = train_config_from_json(with_task(task), "c.json");
    ASSERT_TRUE(on) << task << ": " << on.status().message();
    EXPECT_TRUE(on->text_negatives);
    EXPECT_TRUE(train_config_from_json(to_json(*on), "c.json")->text_negatives);
  }
  for (const char* task : {"captioner", "vqa"}) {
    auto bad = train_config_from_json(with_task(task), "config.json");
    ASSERT_FALSE(bad) << task;
    const std::string message = bad.status().message();
    EXPECT_NE(message.find("'text_negatives'"), std::string::npos) << message;
  }
}

TEST(TrainingConfig, TheTemperatureFloorIsBlipsUnlessSetAndLiesInItsRange) {
  auto c = train_config_from_json(R"({"steps": 3})", "c.json");
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_DOUBLE_EQ(c->min_temperature, 0.001);
  auto set = train_config_from_json(R"({"steps": 3, "min_temperature": 0.05})", "c.json");
  ASSERT_TRUE(set) << set.status().message();
  EXPECT_DOUBLE_EQ(train_config_from_json(to_json(*set), "c.json")->min_temperature, 0.05);
  for (const char* bad : {"0", "0.7", "-0.1"}) {
    auto out = train_config_from_json(
        std::string(R"({"steps": 3, "min_temperature": )") + bad + "}", "config.json");
    ASSERT_FALSE(out) << bad;
    EXPECT_NE(out.status().message().find("'min_temperature'"), std::string::npos);
  }
}

TEST(TrainingConfig, APatchSizeMustDivideTheImageSize) {
  auto c = train_config_from_json(R"({"steps": 3, "image_size": 96, "patch_size": 8})", "c.json");
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->patch_size, 8);
  EXPECT_EQ(train_config_from_json(R"({"steps": 3})", "c.json")->patch_size, 0);  // the preset's
  for (const char* text : {R"({"steps": 3, "patch_size": -8})",
                           R"({"steps": 3, "image_size": 96, "patch_size": 10})"}) {
    auto bad = train_config_from_json(text, "config.json");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.status().message().find("'patch_size'"), std::string::npos) << text;
  }
}

TEST(TrainingConfig, MissingKeysTakeDefaults) {
  auto c = train_config_from_json(R"({"task": "captioner", "steps": 3})", "c.json");
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->task, TrainTask::kCaptioner);
  EXPECT_EQ(c->batch_size, TrainJobConfig().batch_size);
  EXPECT_EQ(c->prompt, "a picture of ");
}

TEST(TrainingConfig, UnknownKeyNamesFileAndField) {
  auto c = train_config_from_json(R"({"steps": 3, "learning_rate": 1e-4})", "job/config.json");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().code(), Status::Code::kInvalid);
  EXPECT_NE(c.status().message().find("job/config.json"), std::string::npos);
  EXPECT_NE(c.status().message().find("'learning_rate'"), std::string::npos);
  auto d = train_config_from_json(R"({"steps": 3, "data": {"splitt": "train"}})", "x.json");
  ASSERT_FALSE(d);
  EXPECT_NE(d.status().message().find("'data.splitt'"), std::string::npos);
}

TEST(TrainingConfig, WrongTypeNamesField) {
  auto c = train_config_from_json(R"({"steps": 3, "batch_size": "8"})", "config.json");
  ASSERT_FALSE(c);
  EXPECT_NE(c.status().message().find("'batch_size'"), std::string::npos);
  EXPECT_NE(c.status().message().find("wrong type"), std::string::npos);
  auto d = train_config_from_json(R"({"steps": 3, "data": {"sources": "web"}})", "config.json");
  ASSERT_FALSE(d);
  EXPECT_NE(d.status().message().find("'data.sources'"), std::string::npos);
  auto e = train_config_from_json(R"({"steps": 2.5})", "config.json");
  ASSERT_FALSE(e);
  EXPECT_NE(e.status().message().find("'steps'"), std::string::npos);
}

TEST(TrainingConfig, ImpossibleValuesNameField) {
  for (const char* text :
       {R"({"steps": 3, "batch_size": 1})", R"({"steps": 0})", R"({"steps": 3, "task": "dance"})",
        R"({"steps": 3, "schedule": "linear"})", R"({"steps": 3, "data": {"sources": ["books"]}})",
        R"({"steps": 3, "preset": "huge"})", R"([1, 2])", R"({"steps": )"}) {
    auto c = train_config_from_json(text, "config.json");
    EXPECT_FALSE(c) << text;
    if (!c) EXPECT_NE(c.status().message().find("config.json"), std::string::npos) << text;
  }
}

TEST(TrainingConfig, OverridesApplyStrictly) {
  TrainJobConfig c;
  c.steps = 5;
  ASSERT_TRUE(apply_overrides(c, R"({"batch_size": 16, "data": {"split": "train"}})", "flags"));
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_EQ(c.data.split, "train");
  EXPECT_EQ(c.steps, 5);
  Status bad = apply_overrides(c, R"({"batch": 16})", "flags");
  EXPECT_FALSE(bad);
  EXPECT_EQ(c.batch_size, 16);  // unchanged
}

}  // namespace
}  // namespace capfilt::core
