#include "model/hf_export.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "model/error.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Our name -> the Hugging Face one: the inverse of map_hf_name (only the vision tower differs).
std::string to_hf_name(const std::string& name) {
  static const std::vector<std::pair<std::regex, std::string>> rules = {
      {std::regex(R"(^visual_encoder\.cls_token$)"), "vision_model.embeddings.class_embedding"},
      {std::regex(R"(^visual_encoder\.pos_embed$)"), "vision_model.embeddings.position_embedding"},
      {std::regex(R"(^visual_encoder\.patch_embed\.proj\.(weight|bias)$)"),
       "vision_model.embeddings.patch_embedding.$1"},
      {std::regex(R"(^visual_encoder\.blocks\.(\d+)\.norm(1|2)\.(weight|bias)$)"),
       "vision_model.encoder.layers.$1.layer_norm$2.$3"},
      {std::regex(R"(^visual_encoder\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)$)"),
       "vision_model.encoder.layers.$1.self_attn.qkv.$2"},
      {std::regex(R"(^visual_encoder\.blocks\.(\d+)\.attn\.proj\.(weight|bias)$)"),
       "vision_model.encoder.layers.$1.self_attn.projection.$2"},
      {std::regex(R"(^visual_encoder\.blocks\.(\d+)\.mlp\.(fc1|fc2)\.(weight|bias)$)"),
       "vision_model.encoder.layers.$1.mlp.$2.$3"},
      {std::regex(R"(^visual_encoder\.norm\.(weight|bias)$)"), "vision_model.post_layernorm.$1"},
  };
  for (const auto& [pattern, replacement] : rules) {
    if (std::regex_match(name, pattern)) return std::regex_replace(name, pattern, replacement);
  }
  return name;
}

struct Parts {
  bool encoder, decoder, itm;  // vision always; itm means ITM head + projections
};

Parts parts_of(ImportedKind kind) {
  switch (kind) {
    case ImportedKind::kCaptioner: return {false, true, false};
    case ImportedKind::kRetrieval: return {true, false, true};
    case ImportedKind::kQuestionAnswering: return {true, true, false};
    case ImportedKind::kPretrained: break;
  }
  throw ModelError("a pre-trained BLIP (every part) has no Hugging Face class; export it as a captioner, a "
                   "retrieval model or a VQA model");
}

void check_fits(const BlipConfig& c, ImportedKind kind, const std::string& source) {
  const Parts p = parts_of(kind);
  std::vector<std::string> lacking;
  if (!c.components.vision) lacking.push_back("the image encoder");
  if (p.encoder && !c.components.text_encoder) lacking.push_back("the text encoder");
  if (p.decoder && !c.components.text_decoder) lacking.push_back("the text decoder");
  if (p.itm && !c.components.itm_head) lacking.push_back("the ITM head");
  if (p.itm && !c.components.projections) lacking.push_back("the ITC projections");
  if (!lacking.empty()) {
    std::string list;
    for (std::size_t i = 0; i < lacking.size(); ++i) list += (i ? ", " : "") + lacking[i];
    throw ModelError(source + ": cannot export as " + hf_architecture(kind) + ": the model lacks " + list);
  }
  if (p.decoder && c.components.text_encoder && c.sharing == SharingMode::kShareAll) {
    throw ModelError(source + ": cannot export as " + hf_architecture(kind) +
                     ": the decoder shares its self-attention with the encoder (`share-all`, the paper's "
                     "ablation). Hugging Face's BLIP decoder always has a self-attention of its own and no "
                     "released BLIP ties them, so this model has no Hugging Face counterpart; train with "
                     "`blip` sharing to export a captioner or VQA model");
  }
  if (kind == ImportedKind::kQuestionAnswering && c.cross_width() != c.text.hidden) {
    throw ModelError(source + ": cannot export as BlipForQuestionAnswering: its one encoder_hidden_size must "
                     "be both the image width (" + std::to_string(c.cross_width()) + ") and the text width (" +
                     std::to_string(c.text.hidden) + ")");
  }
}

}  // namespace

const char* hf_architecture(ImportedKind kind) {
  switch (kind) {
    case ImportedKind::kCaptioner: return "BlipForConditionalGeneration";
    case ImportedKind::kRetrieval: return "BlipForImageTextRetrieval";
    case ImportedKind::kQuestionAnswering: return "BlipForQuestionAnswering";
    case ImportedKind::kPretrained: break;
  }
  return "(none)";
}

ImportedKind hf_kind_of(const BlipConfig& config, const std::string& source) {
  const Components& p = config.components;
  const bool heads = p.itm_head || p.projections;
  if (p.text_decoder && !p.text_encoder && !heads) return ImportedKind::kCaptioner;
  if (!p.text_decoder && p.text_encoder) return ImportedKind::kRetrieval;
  if (p.text_decoder && p.text_encoder && !heads) return ImportedKind::kQuestionAnswering;
  throw ModelError(source + ": the model has an encoder, a decoder and the ITM/ITC heads, which no single Hugging "
                   "Face BLIP class holds; choose captioner, retrieval or vqa");
}

NamedTensors export_hf_tensors(const Blip& model, ImportedKind kind, const std::string& source) {
  const BlipConfig& c = model->config();
  check_fits(c, kind, source);
  const Parts p = parts_of(kind);
  const bool decoder_shares = c.components.text_encoder && c.sharing == SharingMode::kBlip;
  const std::string enc = "text_encoder.", dec = "text_decoder.bert.", head = "text_decoder.cls.predictions.";
  NamedTensors out;
  auto put = [&](const std::string& ours, const torch::Tensor& t) {
    const std::string hf = to_hf_name(ours);
    if (map_hf_name(hf) != ours) throw ModelError(source + ": no Hugging Face name for tensor " + ours);
    out[hf] = t.detach();
  };
  for (const auto& [name, tensor] : state_dict(*model)) {
    if (starts_with(name, "visual_encoder.") || (p.decoder && starts_with(name, "text_decoder."))) {
      put(name, tensor);
    } else if (starts_with(name, enc)) {
      if (p.encoder) put(name, tensor);
      // A tensor the decoder shares is registered once, under the encoder; Hugging Face holds a copy
      // under the decoder's name too. `blip` shares all but the self-attention.
      const std::string rest = name.substr(enc.size());
      if (p.decoder && decoder_shares && rest.find(".attention.") == std::string::npos) put(dec + rest, tensor);
    } else if (p.itm && (starts_with(name, "itm_head.") || starts_with(name, "vision_proj.") ||
                         starts_with(name, "text_proj."))) {
      put(name, tensor);
    }
    // temp (the ITC temperature) has no Hugging Face counterpart: the retrieval class has none.
  }
  const torch::Tensor positions = torch::arange(c.text.max_positions, torch::kInt64).unsqueeze(0);
  if (p.encoder) out[enc + "embeddings.position_ids"] = positions;
  if (p.decoder) {
    out[dec + "embeddings.position_ids"] = positions;
    if (!out.count(head + "decoder.weight")) out[head + "decoder.weight"] = out.at(dec + "embeddings.word_embeddings.weight");
    out[head + "decoder.bias"] = out.at(head + "bias");
  }
  return out;
}

std::string hf_config_json(const BlipConfig& c, ImportedKind kind) {
  const SpecialTokens& tok = c.text.tokens;
  // transformers 4.29's BlipTextConfig / BlipVisionConfig / BlipConfig fields. Values this project
  // does not model (dropouts, initialisers, projection_dim of BlipModel, eos) are their defaults.
  ordered_json text = {
      {"model_type", "blip_text_model"},
      {"vocab_size", c.text.vocab_size},
      {"hidden_size", c.text.hidden},
      {"encoder_hidden_size", c.cross_width()},
      {"intermediate_size", c.text.intermediate},
      {"projection_dim", 768},
      {"num_hidden_layers", c.text.layers},
      {"num_attention_heads", c.text.heads},
      {"max_position_embeddings", c.text.max_positions},
      {"hidden_act", "gelu"},
      {"layer_norm_eps", c.text.layer_norm_eps},
      {"hidden_dropout_prob", 0.0},
      {"attention_probs_dropout_prob", 0.0},
      {"initializer_range", 0.02},
      {"bos_token_id", tok.dec},
      {"eos_token_id", 2},
      {"pad_token_id", tok.pad},
      {"sep_token_id", tok.sep},
      {"is_decoder", true},
      {"use_cache", true},
      // transformers ties cls.predictions.decoder to the word embeddings when this is true; the file
      // holds both tensors either way.
      {"tie_word_embeddings", c.text.tie_word_embeddings},
  };
  ordered_json vision = {
      {"model_type", "blip_vision_model"},
      {"hidden_size", c.vision.hidden},
      {"intermediate_size", c.vision.intermediate},
      {"projection_dim", 512},
      {"num_hidden_layers", c.vision.depth},
      {"num_attention_heads", c.vision.heads},
      {"num_channels", 3},
      {"image_size", c.vision.image_size},
      {"patch_size", c.vision.patch_size},
      {"hidden_act", "gelu"},
      {"layer_norm_eps", c.vision.layer_norm_eps},
      {"attention_dropout", 0.0},
      {"initializer_range", 1e-10},
  };
  ordered_json root = {
      {"architectures", {hf_architecture(kind)}},
      {"model_type", "blip"},
      {"image_text_hidden_size", c.embed_dim},
      {"projection_dim", 512},
      {"logit_scale_init_value", 2.6592},
      {"initializer_factor", 1.0},
      {"initializer_range", 0.02},
      {"torch_dtype", "float32"},
      {"transformers_version", "4.29.0"},
      {"text_config", text},
      {"vision_config", vision},
  };
  return root.dump(2) + "\n";
}

void export_hf_folder(const Blip& model, ImportedKind kind, const std::string& folder, const std::string& source) {
  const NamedTensors tensors = export_hf_tensors(model, kind, source);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw ModelError(folder + ": cannot create the folder: " + ec.message());
  const std::string config_path = (fs::path(folder) / "config.json").string();
  std::ofstream out(config_path, std::ios::binary | std::ios::trunc);
  out << hf_config_json(model->config(), kind);
  if (!out) throw ModelError(config_path + ": cannot write");
  out.close();
  save_safetensors((fs::path(folder) / "model.safetensors").string(), tensors, {{"format", "pt"}});
}

}  // namespace capfilt::model
