#pragma once
// Import of published BLIP weights into this project's model (names as in the Salesforce code):
// Hugging Face folders (config.json + model.safetensors) of BlipForConditionalGeneration
// (captioner), BlipForImageTextRetrieval (filter) and BlipForQuestionAnswering, and the original
// Salesforce .pth checkpoints. Every tensor must map onto exactly one tensor of the model; anything
// else is a ModelError naming the tensors. Model-internal header (includes Torch).

#include <string>

#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/config.h"

namespace capfilt::model {

enum class ImportedKind { kCaptioner, kRetrieval, kQuestionAnswering, kPretrained };

const char* to_string(ImportedKind kind);

// A model built from imported weights, loaded strictly.
struct ImportedModel {
  Blip model{nullptr};
  ImportedKind kind = ImportedKind::kPretrained;
};

// The BlipConfig that a Hugging Face config.json describes (architecture -> components, image
// size, layer counts, epsilon values, special ids). Throws ModelError naming the file for a
// missing file, malformed JSON, a model type other than "blip" or an unsupported architecture.
BlipConfig config_from_hf(const std::string& config_json_path, ImportedKind* kind = nullptr);

// The Hugging Face parameter name `hf_name` in our naming, or "" for buffers we do not keep
// (*.position_ids). Names without a mapping are returned unchanged (and then refused as
// unexpected by the importer).
std::string map_hf_name(const std::string& hf_name);

// Reads `folder`/config.json and `folder`/model.safetensors, maps the names and loads them.
// Throws ModelError naming the file for a missing file, and listing every tensor that does not
// map (by its Hugging Face name), every tensor the model lacks, and every shape mismatch.
// Retrieval checkpoints carry no ITC temperature; it is set to the config's initial value.
ImportedModel import_hf_folder(const std::string& folder);

// Reads a Salesforce BLIP .pth (zip, "model" state dict), infers the config from the tensor shapes
// (image size from pos_embed, widths, depths, vocab, which parts exist, how the decoder shares
// with the encoder, whether the LM head is tied) and drops the aliases a shared module leaves in the
// file (after checking they are equal) and the pre-training state (momentum encoders, queues).
ImportedModel import_salesforce_pth(const std::string& path);
// Same mapping for a state dict already in memory (exposed for tests).
ImportedModel import_salesforce_state_dict(const NamedTensors& tensors, const std::string& source);

// Our checkpoint format: a folder holding config.json (config_to_json) and model.safetensors
// (state_dict names; the config JSON also in the metadata under "capfilt_config").
void save_checkpoint(const Blip& model, const std::string& folder);
// Loads a folder written by save_checkpoint, a Hugging Face folder or a .pth file, whichever
// `path` is. Throws ModelError naming the file and the problem.
Blip load_model(const std::string& path);

}  // namespace capfilt::model
