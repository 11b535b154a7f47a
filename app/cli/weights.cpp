// `capfilt import-weights`: converts published BLIP weights (a Hugging Face folder with config.json
// and model.safetensors, or a Salesforce .pth) into this project's checkpoint folder.
// `capfilt export-weights`: the way back out, a Hugging Face folder transformers loads.

#include <filesystem>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "model/blip.h"
#include "model/hf_export.h"
#include "model/hf_import.h"

namespace capfilt::app {

namespace {

void add_export_weights_command(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand(
      "export-weights",
      "Write a model as a Hugging Face folder (config.json + model.safetensors) that transformers' "
      "BlipForConditionalGeneration / BlipForImageTextRetrieval / BlipForQuestionAnswering load");
  struct Args {
    std::string model, output, as;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("model", args->model, "capfilt checkpoint folder (or a Hugging Face folder / .pth)")
      ->required();
  cmd->add_option("-o,--output", args->output, "Hugging Face folder to write")->required();
  cmd->add_option("--as", args->as,
                  "captioner, retrieval or vqa (default: the one the model's parts fit; a model with "
                  "every part, e.g. a pre-trained one, needs it)")
      ->check(CLI::IsMember({"captioner", "retrieval", "vqa"}));
  cmd->callback([&options, args] {
    apply_runtime(options);
    model::Blip blip = model::load_model(args->model);
    const model::ImportedKind kind = args->as == "captioner" ? model::ImportedKind::kCaptioner
                                     : args->as == "retrieval" ? model::ImportedKind::kRetrieval
                                     : args->as == "vqa" ? model::ImportedKind::kQuestionAnswering
                                                         : model::hf_kind_of(blip->config(), args->model);
    model::export_hf_folder(blip, kind, args->output, args->model);
    std::cout << "exported " << args->model << " as " << model::hf_architecture(kind) << " to "
              << args->output << " (config.json + model.safetensors)\n";
  });
}

}  // namespace

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
  add_export_weights_command(app, options);
}

}  // namespace capfilt::app
