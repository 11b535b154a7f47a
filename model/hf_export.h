#pragma once
// Export to a Hugging Face folder (config.json + model.safetensors) that transformers' (4.29 and
// later) BlipForConditionalGeneration, BlipForImageTextRetrieval or BlipForQuestionAnswering loads
// with no missing and no unexpected keys: the inverse of import_hf_folder (model/hf_import.h).
// Tensors the decoder shares with the encoder here (`blip` sharing) are written under each Hugging
// Face name, as Hugging Face's own checkpoints hold them; the position_ids buffers and the LM
// head's decoder.weight / decoder.bias are written as transformers 4.29 saves them. A model that was
// imported from a Hugging Face folder comes back tensor-for-tensor identical.
// Model-internal header (includes Torch).

#include <string>

#include "model/blip.h"
#include "model/checkpoint.h"
#include "model/hf_import.h"  // ImportedKind

namespace capfilt::model {

// kCaptioner -> BlipForConditionalGeneration (vision + decoder), kRetrieval ->
// BlipForImageTextRetrieval (vision + encoder + ITM head + projections), kQuestionAnswering ->
// BlipForQuestionAnswering (vision + encoder + decoder). kPretrained has no counterpart.
const char* hf_architecture(ImportedKind kind);

// The architecture a model fits exactly: a captioner-only model is a captioner, a filter-only one a
// retrieval model, encoder + decoder without heads a VQA model. Throws ModelError (naming
// `source`) for a model with every part (pick one with export_hf_tensors' `kind`).
ImportedKind hf_kind_of(const BlipConfig& config, const std::string& source);

// The Hugging Face state dict of `model` as `kind`. Throws ModelError naming `source` when the
// model lacks a part that architecture needs, or has no Hugging Face counterpart (`share-all`: the
// decoder's self-attention is the encoder's, which no Hugging Face BLIP class can express).
NamedTensors export_hf_tensors(const Blip& model, ImportedKind kind, const std::string& source);

// config.json text (transformers' BlipConfig, field by field) for `config` as `kind`.
std::string hf_config_json(const BlipConfig& config, ImportedKind kind);

// Writes `folder`/config.json and `folder`/model.safetensors (metadata {"format": "pt"}, which
// transformers requires). Throws ModelError naming the folder or `source`.
void export_hf_folder(const Blip& model, ImportedKind kind, const std::string& folder,
                      const std::string& source);

}  // namespace capfilt::model
