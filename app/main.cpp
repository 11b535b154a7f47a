// capfilt: every CapFilt Studio job from the command line, scriptable and headless.

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "app/build_info.h"
#include "app/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"capfilt — curate image-text datasets with BLIP (CapFilt Studio " CAPFILT_VERSION ")",
               "capfilt"};
  app.set_version_flag("--version", "capfilt " CAPFILT_VERSION);
  app.require_subcommand(1);

  capfilt::app::GlobalOptions options;
  if (const char* env = std::getenv("CAPFILT_THREADS")) options.threads = std::atoi(env);
  app.add_option("--threads", options.threads,
                 "CPU threads for LibTorch (default: all cores; env CAPFILT_THREADS)");
  app.add_option("--device", options.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--resources", options.resources_dir,
                 "folder holding the shipped resources (vocabulary, presets)");

  capfilt::app::add_doctor_commands(app, options);
  capfilt::app::add_model_commands(app, options);
  capfilt::app::add_generate_commands(app, options);
  capfilt::app::add_weights_commands(app, options);
  capfilt::app::add_data_commands(app, options);
  capfilt::app::add_image_commands(app, options);
  capfilt::app::add_project_commands(app, options);
  capfilt::app::add_capfilt_commands(app, options);
  capfilt::app::add_bench_capfilt_commands(app, options);
  capfilt::app::add_eval_commands(app, options);
  capfilt::app::add_train_commands(app, options);
  capfilt::app::add_demo_project_commands(app, options);
  capfilt::app::add_launch_commands(app, options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "capfilt: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
