// `capfilt capfilt`: caption and filter the images of a project (see core/capfilt_run.h).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli/capfilt_progress.h"
#include "app/cli/commands.h"
#include "core/blip_engine.h"
#include "core/capfilt_run.h"
#include "core/capfilt_shard.h"
#include "core/job_progress.h"
#include "core/model_registry.h"
#include "core/stop_signal.h"
#include "db/project.h"

namespace capfilt::app {
namespace {

struct CapfiltArgs {
  std::string project;
  std::string model;  // both captioner and filter
  std::string captioner;
  std::string filter;
  std::string vocab;
  std::string method = "nucleus";
  int captions = 1;
  float top_p = 0.9f;
  int beams = 3;
  int max_length = 30;
  int min_length = 5;
  std::string prompt = "a picture of ";
  uint64_t seed = 0;
  double threshold = 0.5;
  std::string split;
  std::string shard = "0/1";
  int batch = 8;
  int workers = 2;
  int64_t max_images = 0;
  std::string results;  // write a results file instead of the project
  bool json = false;
};

struct MergeArgs {
  std::string project;
  std::vector<std::string> files;
};

void throw_if(const Status& s) {
  if (!s) throw std::runtime_error(s.message());
}

core::CapfiltRunOptions run_options(const CapfiltArgs& a) {
  core::CapfiltRunOptions o;
  if (!core::parse(a.method, &o.caption.method)) {
    throw std::runtime_error("--method must be nucleus, beam or greedy, not '" + a.method + "'");
  }
  o.caption.num_captions = a.captions;
  o.caption.top_p = a.top_p;
  o.caption.num_beams = std::max(a.beams, a.captions);
  o.caption.max_length = a.max_length;
  o.caption.min_length = a.min_length;
  o.caption.prompt = a.prompt;
  o.caption.seed = a.seed;
  o.threshold = a.threshold;
  o.split = a.split;
  throw_if(core::parse_shard(a.shard, &o.shard_index, &o.shard_count));
  o.batch_images = a.batch;
  o.loader_workers = a.workers;
  o.max_images = a.max_images;
  return o;
}

nlohmann::json job_args(const CapfiltArgs& a, const core::CapfiltModels& m) {
  return {{"captioner", m.captioner->info().path}, {"captioner_id", m.captioner_id},
          {"filter", m.filter->info().path},       {"filter_id", m.filter_id},
          {"method", a.method},                    {"captions", a.captions},
          {"top_p", a.top_p},                      {"threshold", a.threshold},
          {"split", a.split},                      {"shard", a.shard},
          {"batch", a.batch}};
}

void print_summary(const core::CapfiltReport& r, const core::CapfiltRunOptions& o) {
  std::printf("\nimages in scope %lld, already done %lld, processed %lld, failed %zu\n",
              static_cast<long long>(r.images_in_scope),
              static_cast<long long>(r.images_already_done),
              static_cast<long long>(r.images_processed), r.failures.size());
  for (size_t i = 0; i < r.failures.size() && i < 20; ++i) {
    std::printf("  skipped %s: %s\n", r.failures[i].image.c_str(), r.failures[i].why.c_str());
  }
  if (r.failures.size() > 20) std::printf("  ... and %zu more\n", r.failures.size() - 20);
  if (o.results != nullptr) {
    std::printf(
        "written to results file %s: synthetic captions %lld, scores %lld (%s; merge it "
        "with `capfilt capfilt merge`)\n",
        o.results->path().c_str(), static_cast<long long>(r.counts.captions_added),
        static_cast<long long>(r.counts.scores_written),
        o.results->finished() ? "finished" : "unfinished: run the same command again");
  } else {
    std::printf(
        "synthetic captions added %lld, scores written %lld, automatic decisions %lld, "
        "captions left to their curator's decision %lld\n",
        static_cast<long long>(r.counts.captions_added),
        static_cast<long long>(r.counts.scores_written),
        static_cast<long long>(r.counts.decisions_written),
        static_cast<long long>(r.counts.kept_by_curator));
  }
  std::printf("filter at ITM < %g: drops %.1f %% of web captions (%lld of %lld) and %.1f %% of "
              "synthetic captions (%lld of %lld: the captioner's noise ratio)\n",
              o.threshold, 100.0 * r.outcome.web_drop_share(),
              static_cast<long long>(r.outcome.web_below),
              static_cast<long long>(r.outcome.web_scored),
              100.0 * r.outcome.synthetic_noise_ratio(),
              static_cast<long long>(r.outcome.synthetic_below),
              static_cast<long long>(r.outcome.synthetic_scored));
  std::printf("time %.1f s (%.2f images/s): waiting for images %.1f s, image encoder %.1f s, "
              "captioning %.1f s, filter %.1f s, store %.1f s\n",
              r.seconds, r.seconds > 0 ? r.images_processed / r.seconds : 0.0, r.wait_seconds,
              r.encode_seconds, r.caption_seconds, r.score_seconds, r.store_seconds);
}

int run(const GlobalOptions& options, const CapfiltArgs& a) {
  apply_runtime(options);
  const std::function<bool()> stop_requested = core::install_stop_signal_handlers();
  core::CapfiltRunOptions o = run_options(a);
  throw_if(core::validate(o));
  const std::string captioner_path = a.captioner.empty() ? a.model : a.captioner;
  const std::string filter_path = a.filter.empty() ? a.model : a.filter;
  if (captioner_path.empty() || filter_path.empty()) {
    throw std::runtime_error("give --model (captioner and filter in one) or --captioner and --filter");
  }
  db::OpenOptions open;
  open.create_if_missing = false;
  open.read_only = !a.results.empty();  // a run into a results file only reads the project
  auto project = value_or_throw(db::Project::open(a.project, open));

  core::EngineOptions eo;
  eo.vocab_path = a.vocab.empty() ? resource_path(options, "bert-base-uncased/vocab.txt") : a.vocab;
  eo.device = options.device;
  eo.model_path = captioner_path;
  auto captioner = value_or_throw(core::BlipEngine::open(eo));
  std::unique_ptr<core::BlipEngine> separate_filter;
  if (filter_path != captioner_path) {
    eo.model_path = filter_path;
    separate_filter = value_or_throw(core::BlipEngine::open(eo));
  }
  core::CapfiltModels models;
  models.captioner = captioner.get();
  models.filter = separate_filter ? separate_filter.get() : captioner.get();
  models.captioner_id = 1;  // validated before anything is written to the project
  models.filter_id = 1;
  throw_if(core::validate(o, models));
  std::unique_ptr<db::CapfiltResultsFile> results;
  if (!a.results.empty()) {
    const auto header = value_or_throw(core::results_header(*project, models, o));
    results = value_or_throw(db::CapfiltResultsFile::open_for_run(a.results, header));
    o.results = results.get();
  } else {
    models.captioner_id =
        value_or_throw(core::register_model(*project, captioner->info(), "captioner"));
    models.filter_id =
        value_or_throw(core::register_model(*project, models.filter->info(), "filter"));
    db::JobRecord job;
    job.kind = "capfilt";
    job.args_json = job_args(a, models).dump();
    o.job_id = value_or_throw(project->add_job(job));
    throw_if(project->update_job(o.job_id, db::JobStatus::kRunning, ::getpid(), 0));
  }

  core::ProgressWriter out(std::cout, a.json);
  const core::CapfiltCallbacks callbacks = capfilt_progress(out, o.job_id, {}, stop_requested);
  auto report = core::run_capfilt(*project, models, o, callbacks);
  if (!report) {
    if (o.job_id != 0) {
      project->update_job(o.job_id, db::JobStatus::kFailed, ::getpid(), 0,
                          report.status().message());
    }
    core::ProgressEvent failed;
    failed.kind = core::ProgressEventKind::kFinished;
    failed.time_ms = now_ms();
    failed.status = "failed";
    failed.text = report.status().message();
    if (a.json) out.write(failed);
    throw std::runtime_error(report.status().message());
  }
  for (const auto& f : report->failures) {
    core::ProgressEvent m;
    m.kind = core::ProgressEventKind::kMessage;
    m.time_ms = now_ms();
    m.level = "warning";
    m.text = "skipped " + f.image + ": " + f.why;
    if (a.json) out.write(m);
  }
  if (!a.json) print_summary(*report, o);
  core::ProgressEvent done;
  done.kind = core::ProgressEventKind::kFinished;
  done.time_ms = now_ms();
  done.status = report->cancelled ? "cancelled" : "succeeded";
  done.text = report->cancelled ? "stopped between batches; run again to continue"
                                : "CapFilt finished";
  done.metrics = {{"images_processed", double(report->images_processed)},
                  {"images_failed", double(report->failures.size())},
                  {"images_already_done", double(report->images_already_done)},
                  {"captions_added", double(report->counts.captions_added)},
                  {"scores_written", double(report->counts.scores_written)},
                  {"decisions_written", double(report->counts.decisions_written)},
                  {"web_drop_share", report->outcome.web_drop_share()},
                  {"synthetic_noise_ratio", report->outcome.synthetic_noise_ratio()},
                  {"seconds", report->seconds}};
  out.write(done);
  return report->cancelled ? 130 : 0;
}

// Merges each file in its own transaction; a refused file leaves the project as it was and the
// others are still merged. Exit status 1 when any was refused.
int merge(const MergeArgs& a) {
  db::OpenOptions open;
  open.create_if_missing = false;
  auto project = value_or_throw(db::Project::open(a.project, open));
  int refused = 0;
  for (const std::string& path : a.files) {
    auto file = db::CapfiltResultsFile::open_for_merge(path);
    Result<db::CapfiltMerge> merged = file ? project->merge_capfilt_results(*file.value())
                                           : Result<db::CapfiltMerge>(file.status());
    if (!merged) {
      std::fprintf(stderr, "refused %s: %s\n", path.c_str(), merged.status().message().c_str());
      ++refused;
      continue;
    }
    const auto& h = file.value()->header();
    const auto& c = merged->counts;
    std::printf(
        "merged %s (shard %d/%d, %lld images): synthetic captions added %lld, scores "
        "written %lld, automatic decisions %lld, captions left to their curator's "
        "decision %lld%s\n",
        path.c_str(), h.shard_index, h.shard_count, static_cast<long long>(merged->images),
        static_cast<long long>(c.captions_added), static_cast<long long>(c.scores_written),
        static_cast<long long>(c.decisions_written), static_cast<long long>(c.kept_by_curator),
        merged->models_registered > 0 ? "; its models registered in the project" : "");
    if (file.value()->images_failed() > 0) {
      std::printf(
          "  %lld images of this shard could not be read there; run CapFilt on the "
          "project for them\n",
          static_cast<long long>(file.value()->images_failed()));
    }
  }
  return refused > 0 ? 1 : 0;
}

}  // namespace

void add_capfilt_commands(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand(
      "capfilt", "Caption every image of a project and filter web and synthetic captions (CapFilt)");
  auto a = std::make_shared<CapfiltArgs>();
  cmd->add_option("project", a->project, "project file");
  cmd->add_option("--model", a->model, "one model folder that is both captioner and filter");
  cmd->add_option("--captioner", a->captioner, "captioner model folder (image-grounded decoder)");
  cmd->add_option("--filter", a->filter, "filter model folder (ITM head, ITC projections)");
  cmd->add_option("--vocab", a->vocab, "vocab.txt (default: the shipped bert-base-uncased)");
  cmd->add_option("--method", a->method, "nucleus (the paper's choice), beam or greedy")
      ->capture_default_str();
  cmd->add_option("--captions", a->captions, "synthetic captions per image (K)")
      ->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "nucleus mass")->capture_default_str();
  cmd->add_option("--beams", a->beams, "beam search width")->capture_default_str();
  cmd->add_option("--max-length", a->max_length)->capture_default_str();
  cmd->add_option("--min-length", a->min_length)->capture_default_str();
  cmd->add_option("--prompt", a->prompt, "caption prefix, kept out of the caption")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "nucleus sampling seed")->capture_default_str();
  cmd->add_option("--threshold", a->threshold,
                  "ITM match probability below which a caption is proposed for dropping")
      ->capture_default_str();
  cmd->add_option("--split", a->split, "only images of this split");
  cmd->add_option("--shard", a->shard, "I/N: this process takes images with id % N == I")
      ->capture_default_str();
  cmd->add_option("--batch", a->batch, "images per batch and per transaction")
      ->capture_default_str();
  cmd->add_option("--workers", a->workers, "image decoding threads")->capture_default_str();
  cmd->add_option("--max-images", a->max_images, "stop after this many images (0 = all)");
  cmd->add_option("--results", a->results,
                  "write captions, scores and proposed decisions to this results file instead of "
                  "the project, which is only read (a copy, on a machine of its own); merge the "
                  "files with `capfilt capfilt merge`");
  cmd->add_flag("--json", a->json, "progress as JSON lines (see README: the progress stream)");

  auto m = std::make_shared<MergeArgs>();
  auto* merge_cmd =
      cmd->add_subcommand("merge",
                          "Fold CapFilt results files made on other machines into the project (one "
                          "transaction each; merging twice changes nothing)");
  merge_cmd->add_option("project", m->project, "project file")->required();
  merge_cmd->add_option("files", m->files, "results files (--results of `capfilt capfilt`)")
      ->required();
  merge_cmd->callback([m] {
    const int rc = merge(*m);
    if (rc != 0) std::exit(rc);
  });
  cmd->callback([a, cmd, merge_cmd, &options] {
    if (merge_cmd->parsed()) return;
    if (a->project.empty()) throw CLI::RequiredError("project");
    const int rc = run(options, *a);
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace capfilt::app
