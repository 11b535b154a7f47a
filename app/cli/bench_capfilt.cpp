// `capfilt bench-capfilt`: CapFilt images per second (one caption + ITM/ITC of the web and the
// synthetic caption, decisions stored) for model sizes and batch sizes, with where the time goes.
// Random weights, so every caption is forced to the same length; demo images on disk, decoded and
// preprocessed by the loader as in a real run.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
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
#include "model/hf_import.h"
#include "model/runtime.h"

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
  std::printf("%-6s %5s %10s %9s | %8s %8s %8s %8s %8s  (seconds)\n", "config", "batch",
              "images/s", "s/image", "wait", "encoder", "decoder", "filter", "store");
  const std::string vocab = resource_path(options, "bert-base-uncased/vocab.txt");
  const int needed = a.images + *std::max_element(a.batches.begin(), a.batches.end());
  for (const auto& name : a.configs) {
    torch::manual_seed(0);
    model::Blip blip(model::preset(name, name == "base" ? a.base_image_size : 0));
    const std::string model_dir = dir + "/model-" + name;
    model::save_checkpoint(blip, model_dir);
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
      std::printf("%-6s %5d %10.3f %9.3f | %8.2f %8.2f %8.2f %8.2f %8.2f\n", name.c_str(), batch,
                  n / r.seconds, r.seconds / n, r.wait_seconds, r.encode_seconds,
                  r.caption_seconds, r.score_seconds, r.store_seconds);
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
