// `capfilt import-weights`: converts published BLIP weights (a Hugging Face folder with config.json
// and model.safetensors, or a Salesforce .pth) into this project's checkpoint folder.

#include <filesystem>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "model/blip.h"
#include "model/hf_import.h"

namespace capfilt::app {

void add_weights_commands(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand(
      "import-weights",
      "Convert BLIP weights (Hugging Face folder or Salesforce .pth) into a capfilt checkpoint");
  struct Args {
    std::string source, output;
  };
  auto args = std::make_shared<Args>();  // outlives parsing: owned by the callback
  cmd->add_option("source", args->source, "Hugging Face folder (config.json + model.safetensors) or .pth")
      ->required();
  cmd->add_option("-o,--output", args->output, "Checkpoint folder to write (config.json + model.safetensors)")
      ->required();
  cmd->callback([&options, args] {
    const std::string& source = args->source;
    const std::string& output = args->output;
    apply_runtime(options);
    model::ImportedModel imported;
    if (std::filesystem::is_directory(source)) {
      imported = model::import_hf_folder(source);
    } else {
      imported = model::import_salesforce_pth(source);
    }
    model::save_checkpoint(imported.model, output);
    const model::BlipConfig& c = imported.model->config();
    std::cout << "imported " << model::to_string(imported.kind) << " model from " << source << "\n"
              << "  vision: " << c.vision.image_size << " px, patch " << c.vision.patch_size
              << ", width " << c.vision.hidden << ", " << c.vision.depth << " layers\n"
              << "  text:   width " << c.text.hidden << ", " << c.text.layers << " layers, vocab "
              << c.text.vocab_size << ", sharing " << model::to_string(c.sharing)
              << (c.text.tie_word_embeddings ? ", tied LM head" : ", own LM head") << "\n"
              << "  parameters: " << model::parameter_count(*imported.model) << "\n"
              << "written to " << output << "\n";
  });
}

}  // namespace capfilt::app
