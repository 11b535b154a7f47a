// `capfilt demo`: trains the tiny BLIP on synthetic coloured shapes and shows what it learned.
// `capfilt bench`: training, ITM and image-embedding throughput for the tiny and base presets.

#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "model/benchmark.h"
#include "model/blip.h"
#include "model/flop_count.h"
#include "model/pretrain.h"
#include "model/runtime.h"
#include "model/synthetic_data.h"
#include "model/tokenizer.h"
#include "model/trainer.h"

namespace capfilt::app {
namespace {

struct DemoOptions {
  int64_t pairs = 6;
  int64_t steps = 150;
  int64_t log_every = 10;
  uint64_t seed = 3;
};

void print_runtime() {
  const model::RuntimeInfo info = model::runtime_info();
  std::printf("LibTorch %s, BLAS: %s, %d intra-op threads (of %d hardware threads)\n",
              info.torch_version.c_str(), info.blas_name.c_str(), info.intra_op_threads,
              info.hardware_threads);
}

torch::Device device_from(const GlobalOptions& options) {
  model::DeviceSpec spec;
  std::string error;
  if (!model::parse_device(options.device, &spec, &error)) throw std::runtime_error(error);
  return torch::Device(spec.to_string());
}

void run_demo(const GlobalOptions& options, const DemoOptions& demo) {
  apply_runtime(options);
  print_runtime();
  const auto tokenizer =
      model::Tokenizer::from_vocab_file(resource_path(options, "bert-base-uncased/vocab.txt"));
  torch::manual_seed(static_cast<uint64_t>(demo.seed));
  model::BlipConfig config = model::preset("tiny");
  config.queue_size = 4 * demo.pairs;
  const model::ImageTextPairs data =
      model::make_shapes_dataset(demo.pairs, config.vision.image_size, demo.seed);
  model::Blip blip(config);
  blip->to(device_from(options));
  std::printf("Training the tiny BLIP (%.1fM parameters) on %lld synthetic image-caption pairs, "
              "%lld steps, batch %lld, on %s\n",
              model::parameter_count(*blip) / 1e6, static_cast<long long>(demo.pairs),
              static_cast<long long>(demo.steps), static_cast<long long>(demo.pairs),
              options.device.c_str());

  model::PretrainOptions train_options;
  train_options.optimizer.peak_lr = 1e-3;
  train_options.optimizer.warmup_start_lr = 1e-4;
  train_options.optimizer.min_lr = 1e-4;
  train_options.optimizer.warmup_steps = 10;
  train_options.optimizer.total_steps = demo.steps;
  train_options.optimizer.weight_decay = 0.0;
  train_options.seed = demo.seed;
  model::Pretrainer trainer(blip, train_options);
  model::TrainLoopOptions loop;
  loop.steps = demo.steps;
  loop.batch_size = demo.pairs;
  loop.seed = demo.seed;
  model::TrainCallbacks callbacks;
  callbacks.on_step = [&](const model::TrainProgress& p) {
    if (p.step % demo.log_every != 0 && p.step != 1 && p.step != p.total_steps) return;
    std::printf("step %4lld/%lld  itc %.3f  itm %.3f  lm %.3f  lr %.1e  %.1f pairs/s\n",
                static_cast<long long>(p.step), static_cast<long long>(p.total_steps),
                p.result.losses.itc, p.result.losses.itm, p.result.losses.lm,
                p.result.learning_rate, p.pairs_per_second);
    std::fflush(stdout);
  };
  const model::TrainSummary summary = model::train(trainer, data, tokenizer, loop, callbacks);
  std::printf("throughput: %.2f steps/s, %.1f pairs/s (batch %lld, %.1f s in all)\n",
              summary.history.size() / summary.seconds,
              summary.history.size() * demo.pairs / summary.seconds,
              static_cast<long long>(demo.pairs), summary.seconds);

  const model::LearnedPairs learned = model::inspect_learned(*blip, data, tokenizer);
  std::printf("\nWhat it learned (greedy caption | training caption):\n");
  for (size_t i = 0; i < data.captions.size(); ++i) {
    const bool same = learned.greedy_captions[i] == data.captions[i];
    std::printf("  %s %-40s | %s\n", same ? "ok" : "  ", learned.greedy_captions[i].c_str(),
                data.captions[i].c_str());
  }
  std::printf("ITM match probability: matched pairs %.3f, mismatched pairs %.3f (mean)\n",
              learned.matched_mean(), learned.mismatched_mean());
}

void run_bench(const GlobalOptions& options, const std::vector<std::string>& presets,
               const model::BenchmarkOptions& base) {
  apply_runtime(options);
  print_runtime();
  for (const std::string& name : presets) {
    model::BenchmarkOptions b = base;
    b.preset = name;
    b.device = options.device == "auto" ? "cpu" : options.device;
    if (name != "tiny") {  // ViT-B steps take seconds on a CPU: fewer, smaller
      b.train_batch = std::min<int64_t>(b.train_batch, 4);
      b.train_steps = std::min(b.train_steps, 2);
      b.infer_repeats = std::min(b.infer_repeats, 2);
    }
    const model::BenchmarkResult r = model::run_benchmark(b);
    // An ITM pair's matrix arithmetic: the ViT, the cross keys/values, the grounded text pass
    // over the benchmark's 30 tokens (model/flop_count.h).
    const model::BlipConfig c = model::preset(name);
    const double itm_flops =
        model::vit_flops(c.vision) + model::cross_kv_flops(c) + model::text_flops(c, 30, true);
    std::printf("%-5s (%.1fM params, %s): train %.3f steps/s = %.2f pairs/s (batch %lld) | "
                "ITM %.2f pairs/s (%.2f GFLOP each: %.1f GFLOP/s) | image embeddings %.2f /s "
                "(batch %lld)\n",
                r.preset.c_str(), r.parameters / 1e6, b.device.c_str(), r.train_steps_per_second,
                r.train_pairs_per_second, static_cast<long long>(r.train_batch),
                r.itm_pairs_per_second, itm_flops / 1e9, r.itm_pairs_per_second * itm_flops / 1e9,
                r.image_embeddings_per_second, static_cast<long long>(r.infer_batch));
    std::fflush(stdout);
  }
}

}  // namespace

void add_model_commands(CLI::App& app, const GlobalOptions& options) {
  static DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Train the tiny BLIP on synthetic shapes for a few steps and show what it learned");
  demo_cmd->add_option("--pairs", demo.pairs, "image-caption pairs (2..96)")->capture_default_str();
  demo_cmd->add_option("--steps", demo.steps, "training steps")->capture_default_str();
  demo_cmd->add_option("--log-every", demo.log_every, "print every N steps")->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "data and model seed")->capture_default_str();
  demo_cmd->callback([&options] { run_demo(options, demo); });

  static std::vector<std::string> presets = {"tiny", "base"};
  static model::BenchmarkOptions bench;
  auto* bench_cmd = app.add_subcommand(
      "bench", "Training steps/s, ITM pairs/s and image embeddings/s (CPU unless --device)");
  bench_cmd->add_option("--presets", presets, "model presets to time")->capture_default_str();
  bench_cmd->add_option("--train-batch", bench.train_batch, "pairs per training step (base: <= 4)")
      ->capture_default_str();
  bench_cmd->add_option("--infer-batch", bench.infer_batch, "pairs / images per inference call")
      ->capture_default_str();
  bench_cmd->add_option("--steps", bench.train_steps, "timed training steps")->capture_default_str();
  bench_cmd->callback([&options] { run_bench(options, presets, bench); });
}

}  // namespace capfilt::app
