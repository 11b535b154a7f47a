// `capfilt train TASK`: a training job on a project's pairs or annotation files (core/training_job.h).
// `capfilt demo-models OUT`: the demo captioner and filter, trained once and cached.

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "app/cli/commands.h"
#include "core/demo_models.h"
#include "core/job_progress.h"
#include "core/training_job.h"
#include "db/project.h"
#include "model/runtime.h"

namespace capfilt::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Exit codes: 0 trained, 1 failed, 3 stopped by SIGINT/SIGTERM with a checkpoint written.
constexpr int kExitStopped = 3;

struct TrainArgs {
  std::string task;
  std::string project;
  std::string job_dir;
  std::string config_file;
  bool resume = false;
  bool as_json = false;
  std::string dist_backend;  // overrides CAPFILT_DIST_BACKEND
  int dist_timeout = 0;      // seconds; overrides CAPFILT_DIST_TIMEOUT
  int64_t log_every = 10;
  // Flags that override the config; only those given are applied.
  std::map<std::string, json> overrides;
  std::map<std::string, json> data_overrides;
  std::vector<std::function<void()>> collect;  // fill the maps from the flags given
};

std::string device_name(const GlobalOptions& options, int local_rank = -1) {
  model::DeviceSpec spec;
  std::string error;
  if (!model::parse_device(options.device, &spec, &error)) throw std::runtime_error(error);
  // One process per GPU: a launched rank takes the GPU of its LOCAL_RANK unless told one.
  const bool indexed = options.device.find(':') != std::string::npos;
  if (local_rank >= 0 && spec.kind == model::DeviceSpec::Kind::kCuda && !indexed) {
    spec.index = local_rank;
  }
  return spec.to_string();
}

Result<core::DistributedSetup> distributed_setup(const TrainArgs& a) {
  auto d = core::distributed_setup_from_env([](const char* name) { return std::getenv(name); });
  if (!d) return d;
  if (!a.dist_backend.empty()) d->backend = a.dist_backend;
  if (a.dist_timeout > 0) d->timeout_s = a.dist_timeout;
  return d;
}

std::string default_job_dir(const std::string& project, const std::string& task) {
  const std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return (fs::path(project).parent_path() / "jobs" / (task + "-" + stamp)).string();
}

int fail(const std::string& message, bool as_json, int rank = 0) {
  if (as_json && rank == 0) {
    core::ProgressEvent e;
    e.kind = core::ProgressEventKind::kFinished;
    e.status = "failed";
    e.text = message;
    core::ProgressWriter(std::cout, true).write(e);
  }
  std::cerr << "capfilt train" << (rank > 0 ? " (rank " + std::to_string(rank) + ")" : "") << ": "
            << message << "\n";
  return 1;
}

int run_train(const GlobalOptions& options, TrainArgs& a) {
  apply_runtime(options);
  for (const auto& collect : a.collect) collect();
  auto dist = distributed_setup(a);
  if (!dist) return fail(dist.status().message(), a.as_json);
  const int rank = dist->rank;
  if (dist->enabled() && a.job_dir.empty()) {
    return fail("distributed training needs --job-dir (the same folder for every process)",
                a.as_json, rank);
  }
  std::unique_ptr<db::Project> project;
  if (!a.project.empty() && rank == 0) {  // rank 0 alone writes the project
    db::OpenOptions open;
    open.create_if_missing = false;
    auto p = db::Project::open(a.project, open);
    if (!p) return fail(p.status().message(), a.as_json);
    project = std::move(*p);
  }
  if (a.job_dir.empty()) {
    if (a.resume) return fail("--resume needs --job-dir (the folder of the job to continue)", a.as_json);
    if (a.project.empty()) return fail("give --job-dir (or --project, whose folder holds jobs/)", a.as_json);
    a.job_dir = default_job_dir(a.project, a.task);
  }
  // The config: --config, else the job's own config.json when resuming, else the defaults.
  core::TrainJobConfig config;
  std::string config_source = a.config_file;
  if (config_source.empty() && a.resume && fs::exists(fs::path(a.job_dir) / "config.json")) {
    config_source = (fs::path(a.job_dir) / "config.json").string();
  }
  json patch = json::object();
  if (!config_source.empty()) {
    auto loaded = core::load_train_config(config_source);
    if (!loaded) return fail(loaded.status().message(), a.as_json);
    config = *loaded;
  } else {
    config.steps = 100;  // a default length when nothing says otherwise
  }
  patch["task"] = a.task;
  for (const auto& [k, v] : a.overrides) patch[k] = v;
  if (!a.data_overrides.empty()) {
    json data = json::object();
    for (const auto& [k, v] : a.data_overrides) data[k] = v;
    patch["data"] = data;
  }
  if (Status s = core::apply_overrides(config, patch.dump(), "command-line flags"); !s) {
    return fail(s.message(), a.as_json, rank);
  }

  core::TrainJobContext ctx;
  ctx.job_dir = a.job_dir;
  ctx.project = project.get();
  ctx.default_vocab = resource_path(options, "bert-base-uncased/vocab.txt");
  ctx.device = device_name(options, dist->enabled() ? dist->local_rank : -1);
  ctx.distributed = *dist;
  ctx.resume = a.resume;
  ctx.log_every = a.log_every;
  ctx.pid = static_cast<int64_t>(::getpid());
  ctx.should_stop = core::install_stop_signal_handlers();
  core::ProgressWriter writer(std::cout, a.as_json);
  ctx.on_event = [&](const core::ProgressEvent& e) {
    if (e.kind == core::ProgressEventKind::kFinished && e.status == "failed") return;  // below
    if (rank == 0) writer.write(e);  // the other ranks' progress is the same
  };
  if (!a.as_json && rank == 0) std::cout << "job folder: " << a.job_dir << "\n";
  auto result = core::run_training_job(config, ctx);
  if (!result) return fail(result.status().message(), a.as_json, rank);
  if (rank > 0) return result->status == "cancelled" ? kExitStopped : 0;
  if (result->status == "cancelled") {
    std::cerr << "capfilt train: stopped by signal after step " << result->steps_done
              << "; checkpoint " << result->checkpoint << "; continue with: capfilt train "
              << a.task << " --resume --job-dir " << a.job_dir
              << (a.project.empty() ? "" : " --project " + a.project) << "\n";
    return kExitStopped;
  }
  if (!a.as_json) {
    std::cout << "model: " << result->model_path;
    if (result->model_id) std::cout << " (model " << result->model_id << " in the project)";
    std::cout << "\n";
  }
  return 0;
}

int run_demo_models(const GlobalOptions& options, const std::string& out, bool as_json,
                    core::DemoModelsOptions o) {
  apply_runtime(options);
  o.vocab = resource_path(options, "bert-base-uncased/vocab.txt");
  o.device = device_name(options);
  o.should_stop = core::install_stop_signal_handlers();
  core::ProgressWriter writer(std::cout, as_json);
  o.on_event = [&](const std::string& stage, const core::ProgressEvent& e) {
    if (as_json) {
      writer.write(e);
    } else if (e.kind != core::ProgressEventKind::kCheckpoint) {
      std::cout << "[" << stage << "] " << core::to_human_line(e) << "\n" << std::flush;
    }
  };
  auto r = core::ensure_demo_models(out, o);
  if (!r) {
    std::cerr << "capfilt demo-models: " << r.status().message() << "\n";
    return r.status().code() == Status::Code::kCancelled ? kExitStopped : 1;
  }
  if (as_json) {
    std::cout << json{{"event", "result"},
                      {"captioner", r->captioner},
                      {"filter", r->filter},
                      {"pretrained", r->pretrained},
                      {"data", r->data_dir},
                      {"cached", r->cached},
                      {"seconds", r->seconds}}
                     .dump()
              << "\n";
  } else {
    std::cout << (r->cached ? "cached demo models" : "trained demo models") << " (training took "
              << static_cast<int>(r->seconds) << " s)\n  captioner: " << r->captioner
              << "\n  filter:    " << r->filter << "\n  data:      " << r->data_dir << "\n";
  }
  return 0;
}

template <typename T>
void add_override(CLI::App* cmd, TrainArgs& a, const std::string& flag, const std::string& key,
                  const std::string& help, bool data = false) {
  auto target = std::make_shared<T>();
  CLI::Option* option = cmd->add_option(flag, *target, help);
  a.collect.push_back([&a, option, target, key, data] {
    if (option->count() > 0) (data ? a.data_overrides : a.overrides)[key] = json(*target);
  });
}

}  // namespace

void add_train_commands(CLI::App& app, const GlobalOptions& options) {
  static TrainArgs a;
  auto* cmd = app.add_subcommand(
      "train", "Pre-train or fine-tune BLIP (pretrain, captioner, filter, vqa) as a resumable job");
  cmd->add_option("task", a.task, "pretrain, captioner, filter or vqa")
      ->required()
      ->check(CLI::IsMember({"pretrain", "captioner", "filter", "vqa"}));
  cmd->add_option("--project", a.project, "project file: data selection, job row, metrics, models");
  cmd->add_option("--job-dir", a.job_dir,
                  "job folder (config, checkpoints, progress log); default <project dir>/jobs/TASK-TIME");
  cmd->add_option("--config", a.config_file, "training config JSON (flags override it)");
  cmd->add_flag("--resume", a.resume, "continue from the job folder's newest checkpoint");
  cmd->add_flag("--json", a.as_json, "progress as JSON lines (see README: Training jobs)");
  cmd->add_option("--log-every", a.log_every, "progress line and metrics every N steps")
      ->capture_default_str();
  cmd->add_option("--dist-backend", a.dist_backend,
                  "distributed: gloo or nccl (default: gloo on CPU, nccl on CUDA; env "
                  "CAPFILT_DIST_BACKEND)")
      ->check(CLI::IsMember({"gloo", "nccl"}));
  cmd->add_option("--dist-timeout", a.dist_timeout,
                  "distributed: seconds a rank waits for the others before failing (default 300; "
                  "env CAPFILT_DIST_TIMEOUT)");
  add_override<std::string>(cmd, a, "--preset", "preset", "tiny, base or large (from scratch)");
  add_override<std::string>(cmd, a, "--init", "init", "checkpoint to start from");
  add_override<int64_t>(cmd, a, "--parent-model", "parent_model_id", "the project's model --init is");
  add_override<int64_t>(cmd, a, "--image-size", "image_size", "image size (0: the model's)");
  add_override<int64_t>(cmd, a, "--patch-size", "patch_size",
                        "the image encoder's patch side in pixels (0: the model's)");
  add_override<int64_t>(cmd, a, "--queue-size", "queue_size", "ITC queue length");
  add_override<int64_t>(cmd, a, "--steps", "steps", "training steps");
  add_override<int64_t>(cmd, a, "--epochs", "epochs", "epochs (when --steps is 0)");
  add_override<int64_t>(cmd, a, "--batch-size", "batch_size", "pairs per step");
  add_override<double>(cmd, a, "--lr", "lr", "peak learning rate");
  add_override<double>(cmd, a, "--min-lr", "min_lr", "cosine floor");
  add_override<int64_t>(cmd, a, "--warmup-steps", "warmup_steps", "linear warm-up steps");
  add_override<double>(cmd, a, "--weight-decay", "weight_decay", "AdamW weight decay");
  add_override<std::string>(cmd, a, "--schedule", "schedule", "cosine or constant");
  add_override<uint64_t>(cmd, a, "--seed", "seed", "seed of weights, data order, augmentation");
  add_override<int64_t>(cmd, a, "--max-text-length", "max_text_length", "caption tokens");
  add_override<std::string>(cmd, a, "--prompt", "prompt", "captioner prompt");
  add_override<int64_t>(cmd, a, "--checkpoint-every", "checkpoint_every", "steps between checkpoints");
  add_override<int64_t>(cmd, a, "--keep-checkpoints", "keep_checkpoints", "checkpoints kept");
  add_override<int>(cmd, a, "--workers", "workers", "image decoding threads");
  add_override<double>(cmd, a, "--crop-min-scale", "crop_min_scale",
                       "augmentation: smallest share of the image area a random crop keeps (1: no crop)");
  add_override<bool>(cmd, a, "--flip", "horizontal_flip",
                     "augmentation: flip images horizontally half of the time (true/false)");
  add_override<bool>(cmd, a, "--text-negatives", "text_negatives",
                     "ITM: also reject each caption rewritten by one word or padded (true/false)");
  add_override<double>(cmd, a, "--min-temperature", "min_temperature",
                       "ITC: floor of the learnt temperature (BLIP: 0.001)");
  add_override<std::string>(cmd, a, "--vocab", "vocab", "vocab.txt");
  add_override<std::string>(cmd, a, "--name", "model_name", "name of the trained model");
  add_override<std::vector<std::string>>(cmd, a, "--annotations", "annotation_files",
                                         "annotation files instead of the project's pairs", true);
  add_override<std::string>(cmd, a, "--image-root", "image_root", "folder image paths are relative to", true);
  add_override<std::string>(cmd, a, "--split", "split", "train, val or test", true);
  add_override<std::vector<std::string>>(cmd, a, "--source", "sources", "web, synthetic, human", true);
  add_override<std::vector<std::string>>(cmd, a, "--decision", "decisions", "keep, drop, undecided", true);
  add_override<int64_t>(cmd, a, "--score-model", "score_model_id", "model whose scores --itm-* use", true);
  add_override<double>(cmd, a, "--itm-min", "itm_min", "lowest ITM score", true);
  add_override<double>(cmd, a, "--itm-max", "itm_max", "highest ITM score", true);
  add_override<double>(cmd, a, "--itc-min", "itc_min", "lowest ITC score", true);
  add_override<double>(cmd, a, "--itc-max", "itc_max", "highest ITC score", true);
  cmd->callback([&options] {
    const int rc = run_train(options, a);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  static std::string out;
  static bool as_json = false;
  static core::DemoModelsOptions demo;
  auto* dm = app.add_subcommand(
      "demo-models", "Train (once; cached) the tiny demo captioner and filter from the demo data");
  dm->add_option("out", out, "folder for the demo data, jobs and models")->required();
  dm->add_flag("--json", as_json, "progress as JSON lines, then one {\"event\":\"result\"} line");
  dm->add_option("--images", demo.images, "demo images to generate")->capture_default_str();
  dm->add_option("--pretrain-steps", demo.pretrain_steps)->capture_default_str();
  dm->add_option("--captioner-steps", demo.captioner_steps)->capture_default_str();
  dm->add_option("--filter-steps", demo.filter_steps)->capture_default_str();
  dm->add_option("--batch-size", demo.batch_size)->capture_default_str();
  dm->add_option("--seed", demo.seed)->capture_default_str();
  dm->add_option("--patch-size", demo.patch_size, "the image encoder's patch side in pixels")
      ->capture_default_str();
  dm->add_option("--crop-min-scale", demo.crop_min_scale,
                 "augmentation: smallest share of the image area a random crop keeps (1: no crop)")
      ->capture_default_str();
  dm->add_option("--flip", demo.horizontal_flip, "augmentation: random horizontal flips (true/false)")
      ->capture_default_str();
  dm->add_option("--text-negatives", demo.text_negatives,
                 "stages whose ITM also rejects rewritten captions: none, filter or all")
      ->check(CLI::IsMember({"none", "filter", "all"}))
      ->capture_default_str();
  dm->add_option("--min-temperature", demo.min_temperature,
                 "ITC: floor of the learnt temperature in pre-training and the filter")
      ->check(CLI::Range(1e-6, 0.5))
      ->capture_default_str();
  dm->callback([&options] {
    const int rc = run_demo_models(options, out, as_json, demo);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace capfilt::app
