#include "model/config.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/error.h"

namespace capfilt::model {
namespace {

using nlohmann::json;

// Reads a required field, naming the file and the key path when it is missing or mistyped.
template <typename T>
void get(const json& object, const char* key, T* out, const std::string& where,
         const std::string& source) {
  if (!object.is_object() || !object.contains(key)) {
    throw ModelError(source + ": config field '" + where + key + "' is missing");
  }
  try {
    *out = object.at(key).get<T>();
  } catch (const json::exception&) {
    throw ModelError(source + ": config field '" + where + key + "' has the wrong type (" +
                     object.at(key).dump() + ")");
  }
}

const json& section(const json& root, const char* key, const std::string& source) {
  if (!root.contains(key) || !root.at(key).is_object()) {
    throw ModelError(source + ": config section '" + key + "' is missing or not an object");
  }
  return root.at(key);
}

json to_json(const BlipConfig& c) {
  json j;
  j["name"] = c.name;
  j["vision"] = {{"image_size", c.vision.image_size},     {"patch_size", c.vision.patch_size},
                 {"hidden", c.vision.hidden},             {"depth", c.vision.depth},
                 {"heads", c.vision.heads},               {"intermediate", c.vision.intermediate},
                 {"layer_norm_eps", c.vision.layer_norm_eps}};
  const SpecialTokens& t = c.text.tokens;
  j["text"] = {{"vocab_size", c.text.vocab_size},
               {"hidden", c.text.hidden},
               {"layers", c.text.layers},
               {"heads", c.text.heads},
               {"intermediate", c.text.intermediate},
               {"max_positions", c.text.max_positions},
               {"layer_norm_eps", c.text.layer_norm_eps},
               {"encoder_width", c.text.encoder_width},
               {"tie_word_embeddings", c.text.tie_word_embeddings},
               {"tokens",
                {{"pad", t.pad}, {"cls", t.cls}, {"sep", t.sep}, {"dec", t.dec}, {"enc", t.enc}}}};
  const Components& p = c.components;
  j["components"] = {{"vision", p.vision},
                     {"text_encoder", p.text_encoder},
                     {"text_decoder", p.text_decoder},
                     {"itm_head", p.itm_head},
                     {"projections", p.projections}};
  j["sharing"] = to_string(c.sharing);
  j["embed_dim"] = c.embed_dim;
  j["momentum"] = c.momentum;
  j["queue_size"] = c.queue_size;
  j["label_smoothing"] = c.label_smoothing;
  j["alpha"] = c.alpha;
  j["temperature"] = c.temperature;
  return j;
}

BlipConfig from_json(const json& j, const std::string& src) {
  if (!j.is_object()) throw ModelError(src + ": config is not a JSON object");
  BlipConfig c;
  get(j, "name", &c.name, "", src);
  const json& v = section(j, "vision", src);
  get(v, "image_size", &c.vision.image_size, "vision.", src);
  get(v, "patch_size", &c.vision.patch_size, "vision.", src);
  get(v, "hidden", &c.vision.hidden, "vision.", src);
  get(v, "depth", &c.vision.depth, "vision.", src);
  get(v, "heads", &c.vision.heads, "vision.", src);
  get(v, "intermediate", &c.vision.intermediate, "vision.", src);
  get(v, "layer_norm_eps", &c.vision.layer_norm_eps, "vision.", src);
  const json& t = section(j, "text", src);
  get(t, "vocab_size", &c.text.vocab_size, "text.", src);
  get(t, "hidden", &c.text.hidden, "text.", src);
  get(t, "layers", &c.text.layers, "text.", src);
  get(t, "heads", &c.text.heads, "text.", src);
  get(t, "intermediate", &c.text.intermediate, "text.", src);
  get(t, "max_positions", &c.text.max_positions, "text.", src);
  get(t, "layer_norm_eps", &c.text.layer_norm_eps, "text.", src);
  get(t, "encoder_width", &c.text.encoder_width, "text.", src);
  get(t, "tie_word_embeddings", &c.text.tie_word_embeddings, "text.", src);
  const json& tok = section(t, "tokens", src);
  get(tok, "pad", &c.text.tokens.pad, "text.tokens.", src);
  get(tok, "cls", &c.text.tokens.cls, "text.tokens.", src);
  get(tok, "sep", &c.text.tokens.sep, "text.tokens.", src);
  get(tok, "dec", &c.text.tokens.dec, "text.tokens.", src);
  get(tok, "enc", &c.text.tokens.enc, "text.tokens.", src);
  const json& p = section(j, "components", src);
  get(p, "vision", &c.components.vision, "components.", src);
  get(p, "text_encoder", &c.components.text_encoder, "components.", src);
  get(p, "text_decoder", &c.components.text_decoder, "components.", src);
  get(p, "itm_head", &c.components.itm_head, "components.", src);
  get(p, "projections", &c.components.projections, "components.", src);
  std::string sharing;
  get(j, "sharing", &sharing, "", src);
  try {
    c.sharing = parse_sharing_mode(sharing);
  } catch (const ModelError& e) {
    throw ModelError(src + ": " + e.what());
  }
  get(j, "embed_dim", &c.embed_dim, "", src);
  get(j, "momentum", &c.momentum, "", src);
  get(j, "queue_size", &c.queue_size, "", src);
  get(j, "label_smoothing", &c.label_smoothing, "", src);
  get(j, "alpha", &c.alpha, "", src);
  get(j, "temperature", &c.temperature, "", src);
  validate(c, src);
  return c;
}

}  // namespace

BlipConfig preset(const std::string& name, int64_t image_size) {
  BlipConfig c;
  c.name = name;
  if (name == "tiny") {
    c.vision = VisionConfig{64, 16, 128, 2, 4, 512, 1e-6};
    c.text.hidden = 128;
    c.text.layers = 2;
    c.text.heads = 4;
    c.text.intermediate = 512;
    c.text.max_positions = 64;
    c.embed_dim = 64;
    c.queue_size = 256;
  } else if (name == "small") {
    // Between tiny and base, for benchmarks against the peer: 224 px, width 256, 4 + 4 layers.
    c.vision = VisionConfig{224, 16, 256, 4, 4, 1024, 1e-6};
    c.text.hidden = 256;
    c.text.layers = 4;
    c.text.heads = 4;
    c.text.intermediate = 1024;
  } else if (name == "base") {
    c.vision = VisionConfig{224, 16, 768, 12, 12, 3072, 1e-6};
  } else if (name == "large") {
    c.vision = VisionConfig{224, 16, 1024, 24, 16, 4096, 1e-6};
  } else {
    throw ModelError("unknown model preset '" + name + "' (expected tiny, small, base or large)");
  }
  if (image_size > 0) c.vision.image_size = image_size;
  validate(c, "preset " + name);
  return c;
}

const char* to_string(SharingMode mode) {
  switch (mode) {
    case SharingMode::kBlip: return "blip";
    case SharingMode::kShareAll: return "share-all";
    case SharingMode::kSeparate: return "separate";
  }
  return "blip";
}

SharingMode parse_sharing_mode(const std::string& text) {
  if (text == "blip") return SharingMode::kBlip;
  if (text == "share-all") return SharingMode::kShareAll;
  if (text == "separate") return SharingMode::kSeparate;
  throw ModelError("unknown sharing mode '" + text + "' (expected blip, share-all or separate)");
}

std::string config_to_json(const BlipConfig& config) { return to_json(config).dump(2) + "\n"; }

BlipConfig config_from_json(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw ModelError(source + ": malformed JSON: " + e.what());
  }
  return from_json(j, source);
}

void save_config(const BlipConfig& config, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw ModelError(path + ": cannot open for writing");
  out << config_to_json(config);
  if (!out.flush()) throw ModelError(path + ": write failed");
}

BlipConfig load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path + ": cannot open config (missing or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  return config_from_json(text.str(), path);
}

void validate(const BlipConfig& c, const std::string& source) {
  auto fail = [&](const std::string& what) { throw ModelError(source + ": invalid config: " + what); };
  const VisionConfig& v = c.vision;
  const TextConfig& t = c.text;
  if (v.image_size <= 0 || v.patch_size <= 0 || v.image_size % v.patch_size != 0) {
    fail("vision.image_size must be a positive multiple of vision.patch_size");
  }
  if (v.hidden <= 0 || v.heads <= 0 || v.hidden % v.heads != 0) {
    fail("vision.hidden must be a positive multiple of vision.heads");
  }
  if (v.depth < 0 || v.intermediate <= 0 || v.layer_norm_eps <= 0) fail("vision depth/MLP/eps");
  if (t.hidden <= 0 || t.heads <= 0 || t.hidden % t.heads != 0) {
    fail("text.hidden must be a positive multiple of text.heads");
  }
  if (t.vocab_size <= 0 || t.layers < 0 || t.intermediate <= 0 || t.max_positions <= 0 ||
      t.layer_norm_eps <= 0 || t.encoder_width < 0) {
    fail("text vocab/layers/intermediate/max_positions/eps/encoder_width");
  }
  for (int64_t id : {t.tokens.pad, t.tokens.cls, t.tokens.sep, t.tokens.dec, t.tokens.enc}) {
    if (id < 0 || id >= t.vocab_size) fail("a special token id lies outside the vocabulary");
  }
  const Components& p = c.components;
  if ((p.itm_head || p.projections) && !p.text_encoder) {
    fail("the ITM head and ITC projections need the text encoder");
  }
  if ((p.projections) && !p.vision) fail("the ITC projections need the vision encoder");
  if (!p.text_encoder && !p.text_decoder && !p.vision) fail("the model has no component");
  if (c.embed_dim <= 0) fail("embed_dim must be positive");
  if (c.momentum < 0 || c.momentum > 1) fail("momentum must lie in [0, 1]");
  if (c.queue_size < 0) fail("queue_size must not be negative");
  if (c.label_smoothing < 0 || c.label_smoothing >= 1) fail("label_smoothing must lie in [0, 1)");
  if (c.alpha < 0 || c.alpha > 1) fail("alpha must lie in [0, 1]");
  if (c.temperature <= 0) fail("temperature must be positive");
}

}  // namespace capfilt::model
