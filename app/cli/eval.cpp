// `capfilt eval filter|retrieval|caption|vqa`: how good a model is on labelled data. This file
// holds the shared output and `eval filter` (which needs no model: it judges the scores a CapFilt
// run stored); the model-backed subcommands are in eval_model.cpp.

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "app/cli/eval_common.h"
#include "core/evaluation.h"

namespace capfilt::app {
namespace {

using nlohmann::json;

// Every number in `j`, keyed by its path joined with '_'.
void flatten(const json& j, const std::string& prefix, std::map<std::string, double>* out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      flatten(value, prefix.empty() ? key : prefix + "_" + key, out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "_" + std::to_string(i + 1), out);
  } else if (j.is_number()) {
    (*out)[prefix] = j.get<double>();
  }
}

struct FilterArgs {
  std::string project, labels;
  int64_t model_id = 0;
  double threshold = 0.5;
  EvalOutputArgs output;
};

void add_filter_command(CLI::App* eval) {
  auto a = std::make_shared<FilterArgs>();
  auto* cmd = eval->add_subcommand(
      "filter",
      "Judge a filter's stored scores against noise labels: precision/recall/F1 of the "
      "drop rule, ROC-AUC of ITM and ITC, best-F1 threshold, per noise kind");
  cmd->add_option("--project", a->project, "project file holding the filter's scores")->required();
  cmd->add_option("--labels", a->labels,
                  "ground-truth/noise_labels.json of the demo data, or a CSV with noisy and "
                  "caption_id or image,caption")
      ->required();
  cmd->add_option("--model-id", a->model_id, "the filter model (its id in the project)")
      ->required();
  cmd->add_option("--threshold", a->threshold, "drop when ITM is below it")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_eval_output_args(cmd, a->output);
  cmd->callback([a] {
    auto project = open_existing_project(a->project);
    auto labels = core::read_noise_labels(a->labels);
    if (!labels) throw std::runtime_error(labels.status().message());
    auto result = core::evaluate_filter(*project, labels.value(), {a->model_id, a->threshold});
    if (!result) throw std::runtime_error(result.status().message());
    finish_eval("eval_filter", core::to_json(result.value()), core::to_text(result.value()),
                a->output, project.get(), a->model_id);
  });
}

}  // namespace

void add_eval_output_args(CLI::App* cmd, EvalOutputArgs& args) {
  cmd->add_flag("--json", args.json, "progress and summary as JSON lines (see the README)");
  cmd->add_option("--out", args.out_file, "write the full result as JSON to this file");
  cmd->add_flag("--no-store", args.no_store, "do not store the result in the model's metrics");
}

EvalProgress::EvalProgress(const std::string& kind, const std::string& unit, bool json)
    : kind_(kind), unit_(unit), json_(json), writer_(json ? std::cout : std::cerr, json) {}

void EvalProgress::start(int64_t total) {
  start_ms_ = last_ms_ = now_ms();
  core::ProgressEvent e;
  e.kind = core::ProgressEventKind::kStart;
  e.time_ms = start_ms_;
  e.job_kind = kind_;
  e.unit = unit_;
  e.total = total;
  writer_.write(e);
}

void EvalProgress::update(int64_t done, int64_t total) {
  const int64_t now = now_ms();
  if (now - last_ms_ < 1000 && done < total) return;
  last_ms_ = now;
  core::ProgressEvent e;
  e.kind = core::ProgressEventKind::kProgress;
  e.time_ms = now;
  core::RateMeter(total, start_ms_).fill(e, done, now);
  writer_.write(e);
}

void finish_eval(const std::string& key, const std::string& result_json, const std::string& text,
                 const EvalOutputArgs& args, db::Project* project, int64_t model_id) {
  if (!args.out_file.empty()) {
    std::ofstream out(args.out_file, std::ios::trunc);
    out << json::parse(result_json).dump(2) << "\n";
    if (!out) throw std::runtime_error(args.out_file + ": cannot write the result");
  }
  std::string stored;
  if (project && !args.no_store) {
    Status s = core::store_model_metrics(*project, model_id, key, result_json);
    if (!s) throw std::runtime_error(s.message());
    stored = "stored as " + key + " in the metrics of model " + std::to_string(model_id) + " of " +
             project->path();
  }
  if (args.json) {
    core::ProgressEvent e;
    e.kind = core::ProgressEventKind::kFinished;
    e.time_ms = now_ms();
    e.status = "succeeded";
    e.text = stored.empty() ? key : stored;
    flatten(json::parse(result_json), "", &e.metrics);
    core::ProgressWriter(std::cout, true).write(e);
  } else {
    std::cout << text;
    if (!stored.empty()) std::cout << stored << "\n";
    if (!args.out_file.empty()) std::cout << "written to " << args.out_file << "\n";
  }
}

std::unique_ptr<db::Project> open_existing_project(const std::string& path) {
  db::OpenOptions options;
  options.create_if_missing = false;
  auto project = db::Project::open(path, options);
  if (!project) throw std::runtime_error(project.status().message());
  return std::move(project).value();
}

void add_eval_commands(CLI::App& app, const GlobalOptions& options) {
  auto* eval = app.add_subcommand("eval", "Evaluate a model: filter, retrieval, caption, vqa");
  eval->require_subcommand(1);
  add_filter_command(eval);
  add_eval_model_commands(eval, options);
}

}  // namespace capfilt::app
