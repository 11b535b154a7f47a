#include "model/benchmark.h"

#include <torch/torch.h>

#include <chrono>

#include "model/blip.h"
#include "model/error.h"
#include "model/pretrain.h"
#include "model/runtime.h"

namespace capfilt::model {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void synchronize(const torch::Device& device) {
#ifdef CAPFILT_WITH_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
#else
  (void)device;
#endif
}

// [CLS] random words [SEP], length 30.
std::pair<torch::Tensor, torch::Tensor> random_texts(const BlipConfig& c, int64_t b,
                                                     const torch::Device& device) {
  const int64_t len = std::min<int64_t>(30, c.text.max_positions);
  torch::Tensor ids = torch::randint(1000, 2000, {b, len}, torch::kLong);
  ids.select(1, 0).fill_(c.text.tokens.cls);
  ids.select(1, len - 1).fill_(c.text.tokens.sep);
  return {ids.to(device), torch::ones({b, len}, torch::kLong).to(device)};
}

torch::Tensor random_pixels(const BlipConfig& c, int64_t b, const torch::Device& device) {
  return torch::randn({b, 3, c.vision.image_size, c.vision.image_size}).to(device);
}

}  // namespace

BenchmarkResult run_benchmark(const BenchmarkOptions& options) {
  DeviceSpec spec;
  std::string error;
  if (!parse_device(options.device, &spec, &error)) throw ModelError("benchmark: " + error);
  const torch::Device device(spec.to_string());
  const BlipConfig config = preset(options.preset);
  torch::manual_seed(0);
  Blip model(config);
  model->to(device);

  BenchmarkResult result;
  result.preset = options.preset;
  result.parameters = parameter_count(*model);
  result.train_batch = options.train_batch;
  result.infer_batch = options.infer_batch;

  {
    PretrainOptions train_options;
    train_options.optimizer.warmup_steps = 0;
    train_options.optimizer.total_steps = options.train_steps + 1;
    Pretrainer trainer(model, train_options);
    PretrainBatch batch;
    batch.pixels = random_pixels(config, options.train_batch, device);
    std::tie(batch.ids, batch.mask) = random_texts(config, options.train_batch, device);
    batch.image_ids = torch::arange(options.train_batch, torch::kLong);
    trainer.step(batch);  // warm-up: allocations, first-call dispatch
    synchronize(device);
    const auto start = Clock::now();
    for (int i = 0; i < options.train_steps; ++i) trainer.step(batch);
    synchronize(device);
    const double s = seconds_since(start);
    result.train_steps_per_second = options.train_steps / s;
    result.train_pairs_per_second = options.train_steps * options.train_batch / s;
  }

  model->eval();
  torch::InferenceMode guard;
  const torch::Tensor pixels = random_pixels(config, options.infer_batch, device);
  const auto [ids, mask] = random_texts(config, options.infer_batch, device);
  const torch::Tensor enc_ids = with_first_token(ids, config.text.tokens.enc);
  auto itm = [&] { return model->itm_logits(model->encode_image(pixels), enc_ids, mask); };
  auto embed = [&] { return model->image_features(model->encode_image(pixels)); };
  for (auto* rate : {&result.itm_pairs_per_second, &result.image_embeddings_per_second}) {
    const bool is_itm = rate == &result.itm_pairs_per_second;
    (is_itm ? itm() : embed());
    synchronize(device);
    const auto start = Clock::now();
    for (int i = 0; i < options.infer_repeats; ++i) (is_itm ? itm() : embed());
    synchronize(device);
    *rate = options.infer_repeats * options.infer_batch / seconds_since(start);
  }
  return result;
}

}  // namespace capfilt::model
