#pragma once
// What every `capfilt eval` subcommand shares: the output options and the end of a run (print,
// write --out, store in the model's metrics, the finished line of the progress stream).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "app/cli/commands.h"
#include "core/job_progress.h"
#include "db/project.h"

namespace capfilt::app {

struct EvalOutputArgs {
  bool json = false;      // progress and the summary as JSON lines (core/job_progress.h)
  std::string out_file;   // the full result as one JSON object
  bool no_store = false;  // do not write the result into the model's metrics
};

void add_eval_output_args(CLI::App* cmd, EvalOutputArgs& args);

// Writes progress events to stdout (JSON lines with --json, else human text on stderr so that
// stdout keeps the report).
class EvalProgress {
 public:
  EvalProgress(const std::string& kind, const std::string& unit, bool json);
  void start(int64_t total);
  // Throttled to about one line a second, plus the last.
  void update(int64_t done, int64_t total);

 private:
  std::string kind_, unit_;
  bool json_;
  int64_t start_ms_ = 0;
  int64_t last_ms_ = 0;
  core::ProgressWriter writer_;
};

// Ends an evaluation: prints `text` (human mode) or a finished event whose metrics are the
// numbers of `result_json` flattened ("itc_image_to_text_r1"); writes `result_json` to --out; and,
// when `project` is given and --no-store is not, stores it as `key` in model `model_id`'s metrics.
void finish_eval(const std::string& key, const std::string& result_json, const std::string& text,
                 const EvalOutputArgs& args, db::Project* project, int64_t model_id);

std::unique_ptr<db::Project> open_existing_project(const std::string& path);

// The model-backed subcommands (retrieval, caption, vqa), in app/cli/eval_model.cpp.
void add_eval_model_commands(CLI::App* eval, const GlobalOptions& options);

}  // namespace capfilt::app
