#pragma once
// What BlipEngine and EncodedImages hold, for the Torch side of core/ only (core/torch/*.cpp).

#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/blip_engine.h"
#include "model/blip.h"
#include "model/scoring.h"
#include "model/tokenizer.h"
#include "model/vqa.h"

namespace capfilt::core {

struct EncodedImages::Impl {
  const void* engine = nullptr;  // the BlipEngine::Impl that encoded them
  torch::Tensor tokens;          // [B, 1 + patches, vision hidden] on the engine's device
  torch::Tensor embedding;       // [B, embed_dim] L2-normalised; undefined without projections
};

struct BlipEngine::Impl {
  model::Blip model{nullptr};
  std::unique_ptr<model::Tokenizer> tokenizer;
  torch::Device device{torch::kCPU};
  ModelInfo info;
  // Imported Hugging Face models start ITM and VQA questions with [CLS]; BLIP's own with [ENC].
  model::ItmFirstToken itm_first = model::ItmFirstToken::kEnc;
  model::VqaFirstToken vqa_first = model::VqaFirstToken::kEnc;
};

}  // namespace capfilt::core
