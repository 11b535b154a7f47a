// An evaluation of a trained tiny BLIP beats the same model untrained: the tiny model learns six
// synthetic shape images by heart (BLIP's pre-training objective, the run of the overfit test and
// `capfilt demo`), both checkpoints are opened through the BlipEngine facade, and `capfilt eval`'s
// retrieval and captioning evaluations run on the six images written as PNG files.
// About two minutes of CPU: labelled slow.

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "core/blip_engine.h"
#include "core/evaluation.h"
#include "core/image_io.h"
#include "model/blip.h"
#include "model/hf_import.h"
#include "model/pretrain.h"
#include "model/synthetic_data.h"
#include "model/tokenizer.h"
#include "model/trainer.h"
#include "test_paths.h"

namespace capfilt {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPairs = 6;
constexpr int64_t kSteps = 150;

core::RgbImage to_rgb(const torch::Tensor& normalised) {
  const torch::Tensor unit = model::denormalize_pixels(normalised).clamp(0, 1);
  const torch::Tensor hwc = (unit * 255).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  core::RgbImage image;
  image.height = static_cast<int>(hwc.size(0));
  image.width = static_cast<int>(hwc.size(1));
  image.pixels.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
  return image;
}

struct Figures {
  core::RetrievalEvaluation retrieval;
  core::CaptionEvaluation captions;
};

Figures evaluate(const std::string& checkpoint, const std::string& vocab,
                 const std::vector<core::LabelledImage>& data) {
  core::EngineOptions options;
  options.model_path = checkpoint;
  options.vocab_path = vocab;
  options.device = "cpu";
  auto engine = core::BlipEngine::open(options);
  EXPECT_TRUE(engine) << engine.status().message();
  if (!engine) return {};
  core::CaptionOptions greedy;
  greedy.method = core::CaptionMethod::kGreedy;
  greedy.max_length = 20;
  greedy.min_length = 1;
  greedy.prompt = "";  // trained without a prompt
  const auto model = core::engine_eval_model(*engine.value(), greedy, greedy);
  auto retrieval = core::evaluate_retrieval(*model, data, 3);
  auto captions = core::evaluate_captions(*model, data);
  EXPECT_TRUE(retrieval) << retrieval.status().message();
  EXPECT_TRUE(captions) << captions.status().message();
  if (!retrieval || !captions) return {};
  std::cerr << checkpoint << "\n"
            << core::to_text(retrieval.value()) << core::to_text(captions.value());
  return {retrieval.value(), captions.value()};
}

TEST(TrainedModelEvaluation, TrainedTinyModelBeatsUntrained) {
  const std::string vocab = std::string(test::kResourcesDir) + "/bert-base-uncased/vocab.txt";
  if (!fs::exists(vocab)) GTEST_SKIP() << "no vocabulary at " << vocab;
  const fs::path dir = fs::path(test::kScratchDir) / "trained_model_eval";
  fs::remove_all(dir);
  fs::create_directories(dir / "images");

  const model::Tokenizer tokenizer = model::Tokenizer::from_vocab_file(vocab);
  torch::set_num_threads(1);
  torch::manual_seed(3);
  model::BlipConfig config = model::preset("tiny");
  config.queue_size = 24;
  const model::ImageTextPairs pairs =
      model::make_shapes_dataset(kPairs, config.vision.image_size, /*seed=*/3);
  std::vector<core::LabelledImage> data;
  for (int64_t i = 0; i < kPairs; ++i) {
    const std::string path = (dir / "images" / ("shape" + std::to_string(i) + ".png")).string();
    ASSERT_TRUE(core::write_image_file(to_rgb(pairs.pixels[i]), path));
    data.push_back({path, {pairs.captions[static_cast<size_t>(i)]}});
  }

  model::Blip blip(config);
  model::save_checkpoint(blip, (dir / "untrained").string());
  model::PretrainOptions options;
  options.optimizer.peak_lr = 1e-3;
  options.optimizer.warmup_start_lr = 1e-4;
  options.optimizer.min_lr = 1e-4;
  options.optimizer.warmup_steps = 10;
  options.optimizer.total_steps = kSteps;
  options.optimizer.weight_decay = 0.0;
  options.seed = 3;
  model::Pretrainer trainer(blip, options);
  model::TrainLoopOptions loop;
  loop.steps = kSteps;
  loop.batch_size = kPairs;
  loop.seed = 3;
  model::train(trainer, pairs, tokenizer, loop, {});
  blip->eval();
  model::save_checkpoint(blip, (dir / "trained").string());

  const Figures before = evaluate((dir / "untrained").string(), vocab, data);
  const Figures after = evaluate((dir / "trained").string(), vocab, data);
  EXPECT_GT(after.retrieval.itc_itm.image_to_text.r1, before.retrieval.itc_itm.image_to_text.r1);
  EXPECT_GT(after.retrieval.itc_itm.text_to_image.r1, before.retrieval.itc_itm.text_to_image.r1);
  EXPECT_GT(after.captions.cider.score, before.captions.cider.score);
  EXPECT_GT(after.captions.bleu.bleu[3], before.captions.bleu.bleu[3]);
}

}  // namespace
}  // namespace capfilt
