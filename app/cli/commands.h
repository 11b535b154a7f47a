#pragma once
// Subcommands of `capfilt`. Each group lives in its own file under app/cli/ and only parses
// arguments, calls into the libraries and prints; the work itself belongs to model/, core/, db/.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "db/status.h"

namespace capfilt::app {

// Options every subcommand shares. Filled in by CLI11 before any subcommand callback runs.
struct GlobalOptions {
  int threads = 0;             // <= 0: all hardware threads
  std::string device = "auto"; // auto, cpu, cuda, cuda:N
  std::string resources_dir;   // empty: found next to the executable or in the source tree
};

// Absolute path of a file shipped in resources/ (e.g. "bert-base-uncased/vocab.txt").
std::string resource_path(const GlobalOptions& options, const std::string& relative);

// Applies --threads once, before a subcommand touches LibTorch.
void apply_runtime(const GlobalOptions& options);

// The value of `result`, or throws its message; main() prints it as "capfilt: <message>" and
// exits with status 1.
template <typename T>
T value_or_throw(Result<T> result) {
  if (!result) throw std::runtime_error(result.status().message());
  return std::move(result).value();
}

// Milliseconds since the Unix epoch, the time of progress lines.
int64_t now_ms();

void add_doctor_commands(CLI::App& app, const GlobalOptions& options);    // doctor
void add_model_commands(CLI::App& app, const GlobalOptions& options);     // demo, bench
void add_generate_commands(CLI::App& app, const GlobalOptions& options);  // caption, itm, vqa, bench-gen.
void add_weights_commands(CLI::App& app, const GlobalOptions& options);   // import-weights
void add_data_commands(CLI::App& app, const GlobalOptions& options);      // import, export
void add_image_commands(CLI::App& app, const GlobalOptions& options);     // demo-data, thumbnails, preprocess
void add_project_commands(CLI::App& app, const GlobalOptions& options);   // project queries
void add_capfilt_commands(CLI::App& app, const GlobalOptions& options);   // capfilt
void add_bench_capfilt_commands(CLI::App& app, const GlobalOptions& options);  // bench-capfilt
void add_eval_commands(CLI::App& app, const GlobalOptions& options);      // eval filter|retrieval|caption|vqa
void add_train_commands(CLI::App& app, const GlobalOptions& options);     // train, demo-models
void add_demo_project_commands(CLI::App& app, const GlobalOptions& options);  // demo-project
void add_launch_commands(CLI::App& app, const GlobalOptions& options);    // launch (distributed)

}  // namespace capfilt::app
