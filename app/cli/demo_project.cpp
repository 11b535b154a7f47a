// `capfilt demo-project DIR`: the project a newcomer sees first. Trains (once, cached) the demo
// captioner and filter on the synthetic demo data, imports the data's noisy web captions and clean
// human subset into DIR/demo.capfilt, and runs CapFilt over it. Every step is skipped when already
// done, so a second run returns at once and an interrupted one continues. The studio runs it as a
// child process and reads its JSON-lines progress (--json).

#include <unistd.h>

#include <chrono>
#include <functional>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/cli/capfilt_progress.h"
#include "app/cli/commands.h"
#include "core/blip_engine.h"
#include "core/capfilt_run.h"
#include "core/stop_signal.h"
#include "core/demo_models.h"
#include "core/importer.h"
#include "core/job_progress.h"
#include "core/model_registry.h"
#include "db/project.h"

namespace capfilt::app {
namespace {
namespace fs = std::filesystem;

class DemoProject {
 public:
  DemoProject(const GlobalOptions& options, std::string dir, bool json)
      : options_(options),
        dir_(std::move(dir)),
        out_(std::cout, json),
        stop_requested_(core::install_stop_signal_handlers()) {}

  int run(int images) {
    message("building the demo project in " + dir_);
    core::DemoModels models = train_models(images);
    const std::string path = (fs::path(dir_) / "demo.capfilt").string();
    if (!models.cached) keep_aside(path);
    auto project = value_or_throw(db::Project::open(path));
    import_data(*project, models.data_dir);
    const core::CapfiltReport report = capfilt(*project, models);
    core::ProgressEvent done = event(core::ProgressEventKind::kFinished, "capfilt");
    done.status = report.cancelled ? "cancelled" : "succeeded";
    done.path = path;
    done.text = report.cancelled ? "stopped; run again to continue" : "the demo project is ready";
    done.metrics = {{"web_drop_share", report.outcome.web_drop_share()},
                    {"synthetic_noise_ratio", report.outcome.synthetic_noise_ratio()},
                    {"images", double(report.images_in_scope)}};
    out_.write(done);
    if (!report.cancelled) {
      std::cerr << "open it with: capfilt-studio " << path << "\n";
    }
    return report.cancelled ? 130 : 0;
  }

 private:
  core::ProgressEvent event(core::ProgressEventKind kind, const std::string& stage) const {
    core::ProgressEvent e;
    e.kind = kind;
    e.time_ms = now_ms();
    e.stage = stage;
    return e;
  }

  void message(const std::string& text, const std::string& stage = {}) {
    core::ProgressEvent e = event(core::ProgressEventKind::kMessage, stage);
    e.text = text;
    out_.write(e);
  }

  // Freshly trained demo models (a first run, or a new recipe) make a demo project scored by other
  // weights stale; it is renamed, not deleted, since a curator may have decided pairs in it.
  void keep_aside(const std::string& path) {
    if (!fs::exists(path)) return;
    const std::string aside = path + ".before-" + std::to_string(now_ms());
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      if (fs::exists(path + suffix)) fs::rename(path + suffix, aside + suffix, ec);
      if (ec) throw std::runtime_error(path + suffix + ": cannot be moved aside: " + ec.message());
    }
    message("the demo models were trained again; the earlier demo project is kept as " + aside);
  }

  core::DemoModels train_models(int images) {
    core::DemoModelsOptions o;
    o.vocab = resource_path(options_, "bert-base-uncased/vocab.txt");
    o.device = options_.device == "auto" ? "cpu" : options_.device;
    o.images = images;
    o.on_event = [this](const std::string& stage, const core::ProgressEvent& e) {
      core::ProgressEvent copy = e;
      copy.stage = "models: " + stage;
      out_.write(copy);
    };
    o.should_stop = stop_requested_;
    core::DemoModels models = value_or_throw(core::ensure_demo_models(
        (fs::path(dir_) / "models").string(), o));
    message(models.cached ? "demo models found in the cache" : "demo models trained", "models");
    return models;
  }

  void import_data(db::Project& project, const std::string& data_dir) {
    auto runs = value_or_throw(project.import_runs());
    int completed = 0;
    for (const auto& r : runs) completed += r.status == "completed";
    if (completed >= 2) return;  // imported by an earlier run
    for (const auto& [file, source] : {std::pair{"web_train.json", db::CaptionSource::kWeb},
                                       std::pair{"human_train.json", db::CaptionSource::kHuman}}) {
      core::ImportOptions io;
      io.source = source;
      io.cancelled = stop_requested_;
      const int64_t started_ms = now_ms();
      io.progress = [this, started_ms, file = std::string(file)](const core::ImportProgress& p) {
        core::ProgressEvent e = event(core::ProgressEventKind::kProgress, "import " + file);
        core::RateMeter(p.records_total, started_ms).fill(e, p.records_done, e.time_ms);
        out_.write(e);
      };
      const auto report = value_or_throw(
          core::import_dataset(project, (fs::path(data_dir) / file).string(), io));
      message("imported " + std::string(file) + ": " + std::to_string(report.counts.captions_added) +
                  " captions",
              "import");
    }
  }

  core::CapfiltReport capfilt(db::Project& project, const core::DemoModels& models) {
    core::EngineOptions eo;
    eo.vocab_path = resource_path(options_, "bert-base-uncased/vocab.txt");
    eo.device = options_.device;
    eo.model_path = models.captioner;
    auto captioner = value_or_throw(core::BlipEngine::open(eo));
    eo.model_path = models.filter;
    auto filter = value_or_throw(core::BlipEngine::open(eo));
    core::CapfiltModels m;
    m.captioner = captioner.get();
    m.filter = filter.get();
    m.captioner_id = value_or_throw(core::register_model(project, captioner->info(), "captioner"));
    m.filter_id = value_or_throw(core::register_model(project, filter->info(), "filter"));
    core::CapfiltRunOptions o;
    o.batch_images = 16;
    return value_or_throw(
        core::run_capfilt(project, m, o, capfilt_progress(out_, 0, "capfilt", stop_requested_)));
  }

  const GlobalOptions& options_;
  std::string dir_;
  core::ProgressWriter out_;
  std::function<bool()> stop_requested_;  // SIGINT / SIGTERM arrived
};

}  // namespace

void add_demo_project_commands(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand(
      "demo-project",
      "Build the demo project: demo data, the demo captioner and filter (trained once), CapFilt");
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto images = std::make_shared<int>(core::DemoModelsOptions{}.images);
  cmd->add_option("dir", *dir, "folder of the demo project (created; reused when present)")
      ->required();
  cmd->add_option("--images", *images, "demo images to generate the first time")
      ->capture_default_str();
  cmd->add_flag("--json", *json, "progress as JSON lines (what the studio reads)");
  cmd->callback([dir, json, images, &options] {
    apply_runtime(options);
    fs::create_directories(*dir);
    const int rc = DemoProject(options, fs::absolute(*dir).string(), *json).run(*images);
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace capfilt::app
