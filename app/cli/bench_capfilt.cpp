// `capfilt bench-capfilt`: CapFilt images per second (one caption + ITM/ITC of the web and the
// synthetic caption, decisions stored) for model sizes and batch sizes, with where the time goes.
// Random weights, so every caption is forced to the same length; demo images on disk, decoded and
// preprocessed by the loader as in a real run.

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "core/blip_engine.h"
#include "core/capfilt_run.h"
#include "core/demo_data.h"
#include "core/importer.h"
#include "core/model_registry.h"
#include "db/project.h"
#include "model/blip.h"
#include "model/config.h"
#include "model/flop_count.h"
#include "model/hf_import.h"
#include "model/runtime.h"
#include "model/tokenizer.h"

namespace capfilt::app {
namespace {
namespace fs = std::filesystem;

struct BenchCapfiltArgs {
  std::vector<std::string> configs{"tiny", "small", "base"};
  std::vector<int> batches{1, 8, 32};
  std::string method = "greedy";
  int images = 32;
  int tokens = 20;  // generated tokens per caption (forced)
  int base_image_size = 384;
  std::string work_dir;  // empty: a temporary folder, removed at the end
};

// A project of `images` demo pairs (web captions) under `dir`.
std::unique_ptr<db::Project> demo_project(const std::string& dir, int images, int batch) {
  const std::string data = dir + "/data";
  if (!fs::exists(data)) {
    core::DemoDataOptions demo;
    demo.count = std::max(16, images * 10 / 7 + 4);  // the web part is ~70 % of the images
    demo.image_size = 256;
    value_or_throw(core::generate_demo_data(data, demo));
  }
  const std::string path = dir + "/bench-" + std::to_string(batch) + ".capfilt";
  fs::remove(path);
  fs::remove(path + "-wal");
  fs::remove(path + "-shm");
  auto project = value_or_throw(db::Project::open(path));
  value_or_throw(core::import_dataset(*project, data + "/web_train.json", {}));
  return project;
}

// Mean token count ([CLS] .. [SEP], cut at the scorer's 35) of the web captions a run scores.
double mean_web_tokens(const std::string& data_dir, const model::Tokenizer& tokenizer) {
  std::ifstream in(data_dir + "/web_train.json");
  const nlohmann::json pairs = nlohmann::json::parse(in);
  double sum = 0;
  int n = 0;
  for (const auto& p : pairs) {
    const std::string text = p.value("caption", "");
    if (text.empty()) continue;  // not imported
    sum += static_cast<double>(std::min<size_t>(tokenizer.encode(text).size(), 35));
    ++n;
  }
  return n ? sum / n : 0.0;
}

// The matrix arithmetic of one CapFilt image (model/flop_count.h): the ViT once, the decoder's
// cross-attention keys/values and `tokens` decoding steps, and the filter on the web and the
// synthetic caption (its own cross keys/values once per image, the grounded pass for ITM and the
// unimodal one for ITC, the projections).
double capfilt_image_flops(const model::BlipConfig& c, int tokens, double web_tokens) {
  const auto n = static_cast<int64_t>(web_tokens + 0.5);
  const int64_t synthetic = tokens + 2;  // [CLS] caption [SEP]
  double f = model::vit_flops(c.vision) + model::projection_flops(c, true);
  f += model::cross_kv_flops(c) + model::decode_flops(c, tokens);
  f += model::cross_kv_flops(c);
  for (int64_t len : {n, synthetic}) {
    f += model::text_flops(c, len, true) + model::text_flops(c, len, false) +
         model::projection_flops(c, false);
  }
  return f;
}

void run(const GlobalOptions& options, const BenchCapfiltArgs& a) {
  apply_runtime(options);
  const auto info = model::runtime_info();
  const std::string dir =
      a.work_dir.empty() ? (fs::temp_directory_path() / ("capfilt-bench-" + std::to_string(getpid())))
                               .string()
                         : a.work_dir;
  fs::create_directories(dir);
  std::printf("# LibTorch %s, BLAS %s (%s), %d intra-op threads; random weights, %s, %d tokens "
              "per caption (forced); %d images per figure after one warm-up batch\n",
              info.torch_version.c_str(), info.blas_name.c_str(), info.blas_threading.c_str(),
              info.intra_op_threads, a.method.c_str(), a.tokens, a.images);
  // The GEMM rate `capfilt doctor` measures, here and now, to compare the runs with.
  const bool on_cpu = options.device == "cpu" || (options.device == "auto" && !info.cuda_available);
  const double gemm = on_cpu ? model::measure_cpu_gemm_gflops() : 0.0;
  if (gemm > 0) std::printf("# fp32 GEMM rate now: %.1f GFLOP/s (1024x1024, as capfilt doctor)\n", gemm);
  std::printf("%-6s %5s %10s %9s %8s %7s | %8s %8s %8s %8s %8s  (seconds)\n", "config", "batch",
              "images/s", "s/image", "GFLOP/s", "% GEMM", "wait", "encoder", "decoder", "filter",
              "store");
  const std::string vocab = resource_path(options, "bert-base-uncased/vocab.txt");
  const model::Tokenizer tokenizer = model::Tokenizer::from_vocab_file(vocab);
  const int needed = a.images + *std::max_element(a.batches.begin(), a.batches.end());
  for (const auto& name : a.configs) {
    torch::manual_seed(0);
    model::Blip blip(model::preset(name, name == "base" ? a.base_image_size : 0));
    const std::string model_dir = dir + "/model-" + name;
    model::save_checkpoint(blip, model_dir);
    const model::BlipConfig config = blip->config();
    blip = model::Blip(nullptr);
    core::EngineOptions eo{model_dir, vocab, options.device, core::FirstToken::kAuto};
    auto engine = value_or_throw(core::BlipEngine::open(eo));
    for (int batch : a.batches) {
      auto project = demo_project(dir, needed, batch);
      core::CapfiltModels m;
      m.captioner = m.filter = engine.get();
      m.captioner_id = m.filter_id = value_or_throw(core::register_model(*project, engine->info(), "capfilt"));
      core::CapfiltRunOptions o;
      if (!core::parse(a.method, &o.caption.method)) throw std::runtime_error("bad --method");
      o.caption.prompt.clear();
      o.caption.max_length = o.caption.min_length = 1 + a.tokens;
      o.batch_images = batch;
      o.loader_workers = 2;
      o.max_images = batch;  // warm-up: one batch, not timed
      value_or_throw(core::run_capfilt(*project, m, o));
      o.max_images = a.images;
      const auto r = value_or_throw(core::run_capfilt(*project, m, o));
      const double n = static_cast<double>(r.images_processed);
      const double web = mean_web_tokens(dir + "/data", tokenizer);
      const double flops = capfilt_image_flops(config, a.tokens, web);
      const double rate = flops * n / r.seconds / 1e9;
      std::printf("%-6s %5d %10.3f %9.3f %8.1f %6.0f%% | %8.2f %8.2f %8.2f %8.2f %8.2f\n",
                  name.c_str(), batch, n / r.seconds, r.seconds / n, rate,
                  gemm > 0 ? 100.0 * rate / gemm : 0.0, r.wait_seconds, r.encode_seconds,
                  r.caption_seconds, r.score_seconds, r.store_seconds);
      if (batch == a.batches.front()) {
        std::printf("#   %s: %.2f GFLOP counted per image (ViT %.2f; decoder %.2f incl. cross K/V "
                    "%.2f; filter %.2f on a %.1f-token web and a %d-token synthetic caption)\n",
                    name.c_str(), flops / 1e9, model::vit_flops(config.vision) / 1e9,
                    (model::cross_kv_flops(config) + model::decode_flops(config, a.tokens)) / 1e9,
                    model::cross_kv_flops(config) / 1e9,
                    (flops - model::vit_flops(config.vision) - model::cross_kv_flops(config) -
                     model::decode_flops(config, a.tokens)) / 1e9,
                    web, a.tokens + 2);
      }
      std::fflush(stdout);
    }
  }
  if (a.work_dir.empty()) fs::remove_all(dir);
}

}  // namespace

void add_bench_capfilt_commands(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand(
      "bench-capfilt", "CapFilt images/s (caption + filter + store) per model and batch size");
  auto a = std::make_shared<BenchCapfiltArgs>();
  cmd->add_option("--configs", a->configs, "presets: tiny, small, base, large")->capture_default_str();
  cmd->add_option("--batches", a->batches, "images per batch")->capture_default_str();
  cmd->add_option("--method", a->method, "greedy, beam or nucleus")->capture_default_str();
  cmd->add_option("--images", a->images, "timed images per figure")->capture_default_str();
  cmd->add_option("--tokens", a->tokens, "generated tokens per caption")->capture_default_str();
  cmd->add_option("--base-image-size", a->base_image_size)->capture_default_str();
  cmd->add_option("--work-dir", a->work_dir, "keep the projects and models here");
  cmd->callback([a, &options] { run(options, *a); });
}

}  // namespace capfilt::app
