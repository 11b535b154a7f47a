#include "model/hf_import.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/error.h"

namespace capfilt::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path + ": cannot open (missing or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    throw ModelError(path + ": malformed JSON: " + e.what());
  }
}

template <typename T>
T field(const json& object, const char* key, const std::string& where, const std::string& path) {
  if (!object.is_object() || !object.contains(key) || object.at(key).is_null()) {
    throw ModelError(path + ": field '" + where + key + "' is missing");
  }
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    throw ModelError(path + ": field '" + where + key + "' has the wrong type");
  }
}

template <typename T>
T field_or(const json& object, const char* key, T fallback) {
  if (!object.is_object() || !object.contains(key) || object.at(key).is_null()) return fallback;
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    return fallback;
  }
}

std::string join(const std::vector<std::string>& names, size_t limit = 20) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && torch::equal(a, b);
}

// Checks `ours` names against the model and loads them; `origin` maps our names back to the file's
// for the error message.
Blip load_mapped(const BlipConfig& config, const NamedTensors& ours,
                 const std::map<std::string, std::string>& origin, const std::string& source) {
  Blip model(config);
  const NamedTensors expected = state_dict(*model);
  std::vector<std::string> unexpected, missing;
  for (const auto& [name, tensor] : ours) {
    if (!expected.count(name)) {
      auto it = origin.find(name);
      unexpected.push_back(it == origin.end() || it->second == name ? name
                                                                    : it->second + " (-> " + name + ")");
    }
  }
  for (const auto& [name, tensor] : expected) {
    if (!ours.count(name)) missing.push_back(name);
  }
  if (!unexpected.empty() || !missing.empty()) {
    std::string message = source + ": the weights do not fit a BLIP " + config.name + " model.";
    if (!unexpected.empty()) message += " Tensors that map to nothing: " + join(unexpected) + ".";
    if (!missing.empty()) message += " Tensors the model needs but the file lacks: " + join(missing) + ".";
    throw ModelError(message);
  }
  load_state_dict_strict(*model, ours, source);
  return model;
}

}  // namespace

const char* to_string(ImportedKind kind) {
  switch (kind) {
    case ImportedKind::kCaptioner: return "captioner";
    case ImportedKind::kRetrieval: return "retrieval";
    case ImportedKind::kQuestionAnswering: return "question-answering";
    case ImportedKind::kPretrained: return "pretrained";
  }
  return "pretrained";
}

// ---- Hugging Face ------------------------------------------------------------------------------

BlipConfig config_from_hf(const std::string& path, ImportedKind* kind_out) {
  const json root = read_json(path);
  const std::string model_type = field_or<std::string>(root, "model_type", "");
  if (model_type != "blip") {
    throw ModelError(path + ": unsupported model type '" + model_type + "' (expected 'blip')");
  }
  std::string architecture;
  if (root.contains("architectures") && root["architectures"].is_array() &&
      !root["architectures"].empty() && root["architectures"][0].is_string()) {
    architecture = root["architectures"][0].get<std::string>();
  }
  BlipConfig c;
  ImportedKind kind;
  c.components = Components{};
  if (architecture == "BlipForConditionalGeneration") {
    kind = ImportedKind::kCaptioner;
    c.components = Components{true, false, true, false, false};
  } else if (architecture == "BlipForImageTextRetrieval") {
    kind = ImportedKind::kRetrieval;
    c.components = Components{true, true, false, true, true};
  } else if (architecture == "BlipForQuestionAnswering") {
    kind = ImportedKind::kQuestionAnswering;
    c.components = Components{true, true, true, false, false};
    c.sharing = SharingMode::kSeparate;
  } else {
    throw ModelError(path + ": unsupported architecture '" + architecture +
                     "' (expected BlipForConditionalGeneration, BlipForImageTextRetrieval or "
                     "BlipForQuestionAnswering)");
  }
  c.name = std::string("hf-") + to_string(kind);
  const json& v = root.contains("vision_config") ? root["vision_config"] : json::object();
  const json& t = root.contains("text_config") ? root["text_config"] : json::object();
  for (const auto* section : {&v, &t}) {
    const std::string act = field_or<std::string>(*section, "hidden_act", "gelu");
    if (act != "gelu") throw ModelError(path + ": unsupported activation '" + act + "'");
  }
  c.vision.image_size = field<int64_t>(v, "image_size", "vision_config.", path);
  c.vision.patch_size = field<int64_t>(v, "patch_size", "vision_config.", path);
  c.vision.hidden = field<int64_t>(v, "hidden_size", "vision_config.", path);
  c.vision.depth = field<int64_t>(v, "num_hidden_layers", "vision_config.", path);
  c.vision.heads = field<int64_t>(v, "num_attention_heads", "vision_config.", path);
  c.vision.intermediate = field<int64_t>(v, "intermediate_size", "vision_config.", path);
  c.vision.layer_norm_eps = field<double>(v, "layer_norm_eps", "vision_config.", path);
  c.text.vocab_size = field<int64_t>(t, "vocab_size", "text_config.", path);
  c.text.hidden = field<int64_t>(t, "hidden_size", "text_config.", path);
  c.text.layers = field<int64_t>(t, "num_hidden_layers", "text_config.", path);
  c.text.heads = field<int64_t>(t, "num_attention_heads", "text_config.", path);
  c.text.intermediate = field<int64_t>(t, "intermediate_size", "text_config.", path);
  c.text.max_positions = field<int64_t>(t, "max_position_embeddings", "text_config.", path);
  c.text.layer_norm_eps = field<double>(t, "layer_norm_eps", "text_config.", path);
  c.text.encoder_width = field_or<int64_t>(t, "encoder_hidden_size", c.vision.hidden);
  c.text.tie_word_embeddings = field_or<bool>(t, "tie_word_embeddings", true);
  SpecialTokens& tok = c.text.tokens;
  tok.pad = field_or<int64_t>(t, "pad_token_id", tok.pad);
  tok.sep = field_or<int64_t>(t, "sep_token_id", tok.sep);
  tok.dec = field_or<int64_t>(t, "bos_token_id", tok.dec);
  // [ENC] follows [DEC] as the last added token in BLIP's tokenizer. [CLS] is not in the config;
  // the bert-base-uncased id is kept unless the vocabulary is another one (the caller then sets it).
  if (tok.dec + 2 == c.text.vocab_size) tok.enc = tok.dec + 1;
  if (c.text.vocab_size != 30524 && tok.cls >= c.text.vocab_size) tok.cls = tok.pad;
  c.embed_dim = field_or<int64_t>(root, "image_text_hidden_size", c.embed_dim);
  validate(c, path);
  if (kind_out) *kind_out = kind;
  return c;
}

std::string map_hf_name(const std::string& name) {
  if (ends_with(name, ".position_ids")) return "";
  static const std::vector<std::pair<std::regex, std::string>> rules = {
      {std::regex(R"(^vision_model\.embeddings\.class_embedding$)"), "visual_encoder.cls_token"},
      {std::regex(R"(^vision_model\.embeddings\.position_embedding$)"), "visual_encoder.pos_embed"},
      {std::regex(R"(^vision_model\.embeddings\.patch_embedding\.(weight|bias)$)"),
       "visual_encoder.patch_embed.proj.$1"},
      {std::regex(R"(^vision_model\.encoder\.layers\.(\d+)\.layer_norm1\.(weight|bias)$)"),
       "visual_encoder.blocks.$1.norm1.$2"},
      {std::regex(R"(^vision_model\.encoder\.layers\.(\d+)\.layer_norm2\.(weight|bias)$)"),
       "visual_encoder.blocks.$1.norm2.$2"},
      {std::regex(R"(^vision_model\.encoder\.layers\.(\d+)\.self_attn\.qkv\.(weight|bias)$)"),
       "visual_encoder.blocks.$1.attn.qkv.$2"},
      {std::regex(R"(^vision_model\.encoder\.layers\.(\d+)\.self_attn\.projection\.(weight|bias)$)"),
       "visual_encoder.blocks.$1.attn.proj.$2"},
      {std::regex(R"(^vision_model\.encoder\.layers\.(\d+)\.mlp\.(fc1|fc2)\.(weight|bias)$)"),
       "visual_encoder.blocks.$1.mlp.$2.$3"},
      {std::regex(R"(^vision_model\.post_layernorm\.(weight|bias)$)"), "visual_encoder.norm.$1"},
  };
  for (const auto& [pattern, replacement] : rules) {
    if (std::regex_match(name, pattern)) return std::regex_replace(name, pattern, replacement);
  }
  return name;  // text_encoder.*, text_decoder.*, itm_head, vision_proj, text_proj: same names
}

ImportedModel import_hf_folder(const std::string& folder) {
  const std::string config_path = (fs::path(folder) / "config.json").string();
  const std::string weights_path = (fs::path(folder) / "model.safetensors").string();
  if (!fs::exists(config_path)) throw ModelError(folder + ": no config.json in the folder");
  if (!fs::exists(weights_path)) {
    throw ModelError(folder + ": no model.safetensors in the folder (pytorch_model.bin is not read; "
                     "convert it to safetensors first)");
  }
  ImportedModel out;
  BlipConfig config = config_from_hf(config_path, &out.kind);
  const NamedTensors file = load_safetensors(weights_path);

  NamedTensors ours;
  std::map<std::string, std::string> origin;
  std::vector<std::string> conflicts;
  for (const auto& [name, tensor] : file) {
    const std::string mapped = map_hf_name(name);
    if (mapped.empty()) continue;
    ours[mapped] = tensor;
    origin[mapped] = name;
  }
  // The LM head's decoder.bias is the same tensor as predictions.bias.
  const std::string head = "text_decoder.cls.predictions.";
  if (ours.count(head + "decoder.bias")) {
    if (ours.count(head + "bias") && !same(ours[head + "decoder.bias"], ours[head + "bias"])) {
      conflicts.push_back(head + "decoder.bias differs from " + head + "bias");
    }
    ours.erase(head + "decoder.bias");
  }
  // Tied only when the output projection is absent or equal to the word embeddings.
  const std::string words = "text_decoder.bert.embeddings.word_embeddings.weight";
  if (ours.count(head + "decoder.weight")) {
    config.text.tie_word_embeddings =
        ours.count(words) && same(ours[head + "decoder.weight"], ours[words]);
    if (config.text.tie_word_embeddings) ours.erase(head + "decoder.weight");
  }
  if (!conflicts.empty()) throw ModelError(weights_path + ": " + join(conflicts));
  if (config.components.projections && !ours.count("temp")) {
    ours["temp"] = torch::full({}, config.temperature);
  }
  out.model = load_mapped(config, ours, origin, weights_path);
  return out;
}

// ---- Salesforce --------------------------------------------------------------------------------

ImportedModel import_salesforce_state_dict(const NamedTensors& file, const std::string& source) {
  auto has = [&](const std::string& n) { return file.count(n) > 0; };
  auto get = [&](const std::string& n) -> const torch::Tensor& {
    auto it = file.find(n);
    if (it == file.end()) throw ModelError(source + ": tensor '" + n + "' is missing");
    return it->second;
  };
  auto count_layers = [&](const std::string& prefix) {
    int64_t n = 0;
    while (has(prefix + std::to_string(n) + ".attention.self.query.weight") ||
           has(prefix + std::to_string(n) + ".norm1.weight")) {
      ++n;
    }
    return n;
  };

  BlipConfig c;
  c.name = "salesforce";
  Components& parts = c.components;
  parts.vision = has("visual_encoder.pos_embed");
  parts.text_encoder = has("text_encoder.embeddings.word_embeddings.weight");
  parts.text_decoder = has("text_decoder.cls.predictions.bias");
  parts.itm_head = has("itm_head.weight");
  parts.projections = has("vision_proj.weight") && has("text_proj.weight");

  if (parts.vision) {
    const torch::Tensor& pos = get("visual_encoder.pos_embed");
    const torch::Tensor& patch = get("visual_encoder.patch_embed.proj.weight");
    c.vision.hidden = pos.size(2);
    c.vision.patch_size = patch.size(2);
    const auto side = static_cast<int64_t>(std::lround(std::sqrt(double(pos.size(1) - 1))));
    c.vision.image_size = side * c.vision.patch_size;
    c.vision.depth = count_layers("visual_encoder.blocks.");
    c.vision.heads = std::max<int64_t>(1, c.vision.hidden / 64);
    c.vision.intermediate = get("visual_encoder.blocks.0.mlp.fc1.weight").size(0);
  }
  const std::string bert = parts.text_encoder ? "text_encoder." : "text_decoder.bert.";
  if (parts.text_encoder || parts.text_decoder) {
    const torch::Tensor& words = get(bert + "embeddings.word_embeddings.weight");
    c.text.vocab_size = words.size(0);
    c.text.hidden = words.size(1);
    c.text.max_positions = get(bert + "embeddings.position_embeddings.weight").size(0);
    c.text.layers = count_layers(bert + "encoder.layer.");
    c.text.heads = std::max<int64_t>(1, c.text.hidden / 64);
    c.text.intermediate = get(bert + "encoder.layer.0.intermediate.dense.weight").size(0);
    c.text.encoder_width = get(bert + "encoder.layer.0.crossattention.self.key.weight").size(1);
  }
  if (parts.projections) c.embed_dim = get("vision_proj.weight").size(0);

  // Sharing: the decoder's copies of the encoder's modules are aliases when equal.
  NamedTensors ours;
  std::vector<std::string> skipped_prefixes = {"visual_encoder_m.", "text_encoder_m.",
                                               "vision_proj_m.", "text_proj_m."};
  std::set<std::string> skipped_names = {"image_queue", "text_queue", "idx_queue", "queue_ptr",
                                         "ptr_queue"};
  const std::string dec = "text_decoder.bert.";
  if (parts.text_encoder && parts.text_decoder) {
    const std::string probe = "encoder.layer.0.crossattention.self.query.weight";
    const std::string self_probe = "encoder.layer.0.attention.self.query.weight";
    if (!has(dec + probe) || same(get(dec + probe), get("text_encoder." + probe))) {
      c.sharing = (!has(dec + self_probe) || same(get(dec + self_probe), get("text_encoder." + self_probe)))
                      ? SharingMode::kShareAll
                      : SharingMode::kBlip;
    } else {
      c.sharing = SharingMode::kSeparate;
    }
  }
  const std::string head = "text_decoder.cls.predictions.";
  if (parts.text_decoder) {
    const std::string words = (c.sharing != SharingMode::kSeparate && parts.text_encoder)
                                  ? "text_encoder.embeddings.word_embeddings.weight"
                                  : dec + "embeddings.word_embeddings.weight";
    c.text.tie_word_embeddings =
        !has(head + "decoder.weight") || (has(words) && same(get(head + "decoder.weight"), get(words)));
  }

  std::vector<std::string> conflicts;
  for (const auto& [name, tensor] : file) {
    if (skipped_names.count(name)) continue;
    bool skip = false;
    for (const auto& prefix : skipped_prefixes) skip = skip || starts_with(name, prefix);
    if (skip || ends_with(name, ".position_ids")) continue;
    if (name == head + "decoder.bias") {
      if (has(head + "bias") && !same(tensor, get(head + "bias"))) conflicts.push_back(name);
      continue;
    }
    if (name == head + "decoder.weight" && c.text.tie_word_embeddings) continue;
    if (starts_with(name, dec) && parts.text_encoder && c.sharing != SharingMode::kSeparate) {
      const std::string rest = name.substr(dec.size());
      const bool own_self = c.sharing == SharingMode::kBlip &&
                            rest.find(".attention.") != std::string::npos;
      if (!own_self) {
        const std::string twin = "text_encoder." + rest;
        if (!has(twin) || !same(tensor, get(twin))) conflicts.push_back(name);
        continue;  // an alias of the encoder's tensor
      }
    }
    ours[name] = tensor;
  }
  if (!conflicts.empty()) {
    throw ModelError(source + ": tensors that should be shared with the encoder differ: " +
                     join(conflicts));
  }
  if (parts.projections && !ours.count("temp")) ours["temp"] = torch::full({}, c.temperature);
  validate(c, source);
  ImportedModel out;
  out.kind = parts.text_decoder && !parts.text_encoder ? ImportedKind::kCaptioner
             : parts.text_decoder && c.sharing == SharingMode::kSeparate
                 ? ImportedKind::kQuestionAnswering
             : parts.text_decoder ? ImportedKind::kPretrained
                                  : ImportedKind::kRetrieval;
  out.model = load_mapped(c, ours, {}, source);
  return out;
}

ImportedModel import_salesforce_pth(const std::string& path) {
  return import_salesforce_state_dict(read_pth_state_dict(path), path);
}

// ---- our format --------------------------------------------------------------------------------

void save_checkpoint(const Blip& model, const std::string& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw ModelError(folder + ": cannot create the folder: " + ec.message());
  const std::string config_json = config_to_json(model->config());
  save_config(model->config(), (fs::path(folder) / "config.json").string());
  save_safetensors((fs::path(folder) / "model.safetensors").string(), state_dict(*model),
                   {{"capfilt_config", config_json}, {"format", "capfilt-blip"}});
}

Blip load_model(const std::string& path) {
  if (fs::is_regular_file(path)) return import_salesforce_pth(path).model;
  const std::string config_path = (fs::path(path) / "config.json").string();
  if (!fs::is_directory(path)) throw ModelError(path + ": no such checkpoint folder or file");
  if (!fs::exists(config_path)) throw ModelError(path + ": no config.json in the folder");
  const json root = read_json(config_path);
  if (root.contains("model_type")) return import_hf_folder(path).model;
  const BlipConfig config = load_config(config_path);
  const std::string weights_path = (fs::path(path) / "model.safetensors").string();
  if (!fs::exists(weights_path)) throw ModelError(path + ": no model.safetensors in the folder");
  Blip model(config);
  load_state_dict_strict(*model, load_safetensors(weights_path), weights_path);
  return model;
}

}  // namespace capfilt::model
