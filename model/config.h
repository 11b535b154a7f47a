#pragma once
// Hyper-parameters of a BLIP model: plain structs with BLIP's defaults inline, presets, and JSON
// (de)serialisation. Torch-free so that app/ and core/ can read and show a model's config.
//
// Field names follow the BLIP paper / Salesforce code; the JSON keys equal the field names.

#include <cstdint>
#include <string>

namespace capfilt::model {

struct VisionConfig {
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t hidden = 768;
  int64_t depth = 12;
  int64_t heads = 12;
  int64_t intermediate = 3072;  // MLP width (mlp_ratio * hidden)
  double layer_norm_eps = 1e-6;  // Salesforce ViT; Hugging Face checkpoints use 1e-5

  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

struct SpecialTokens {
  int64_t pad = 0;
  int64_t cls = 101;
  int64_t sep = 102;
  int64_t dec = 30522;  // [DEC], first token of the image-grounded decoder
  int64_t enc = 30523;  // [ENC], first token of the image-grounded encoder
};

struct TextConfig {
  int64_t vocab_size = 30524;
  int64_t hidden = 768;
  int64_t layers = 12;
  int64_t heads = 12;
  int64_t intermediate = 3072;
  int64_t max_positions = 512;
  double layer_norm_eps = 1e-12;
  // Width of the states cross-attention attends to (the image tokens; for an imported VQA answer
  // decoder, the question encoder's states). 0 means "the vision hidden size".
  int64_t encoder_width = 0;
  // The decoder's output projection is the word-embedding matrix (BLIP) or its own tensor
  // (the Hugging Face checkpoints).
  bool tie_word_embeddings = true;
  SpecialTokens tokens;
};

// How the image-grounded decoder relates to the text encoder.
enum class SharingMode {
  kBlip,      // decoder shares embeddings, cross-attention and FFN; owns its self-attention
  kShareAll,  // decoder shares everything with the encoder (the paper's ablation)
  kSeparate,  // encoder and decoder have their own weights (e.g. an imported VQA model)
};

// Which parts a model has. A captioner-only checkpoint is {vision, text_decoder}; a filter-only one
// is {vision, text_encoder, itm_head, projections}.
struct Components {
  bool vision = true;
  bool text_encoder = true;
  bool text_decoder = true;
  bool itm_head = true;
  bool projections = true;  // vision_proj, text_proj and the ITC temperature
};

struct BlipConfig {
  std::string name = "base";
  VisionConfig vision;
  TextConfig text;
  Components components;
  SharingMode sharing = SharingMode::kBlip;
  int64_t embed_dim = 256;  // ITC projection size
  double momentum = 0.995;
  int64_t queue_size = 57600;
  double label_smoothing = 0.1;
  double alpha = 0.4;
  double temperature = 0.07;  // initial ITC temperature

  // Width cross-attention attends to (text.encoder_width or vision.hidden).
  int64_t cross_width() const { return text.encoder_width > 0 ? text.encoder_width : vision.hidden; }
};

// Presets: "tiny" (64 px, trains on 2 CPU cores in minutes), "small" (224 px, width 256, 4 + 4
// layers: the benchmarks' middle size), "base" (ViT-B/16 + BERT-base, 224 px unless
// image_size > 0), "large" (ViT-L/16). Throws ModelError for an unknown name.
BlipConfig preset(const std::string& name, int64_t image_size = 0);

const char* to_string(SharingMode mode);
// Throws ModelError for anything but "blip", "share-all", "separate".
SharingMode parse_sharing_mode(const std::string& text);

// JSON text of `config` (pretty-printed) and back. `source` names the file in error messages.
std::string config_to_json(const BlipConfig& config);
BlipConfig config_from_json(const std::string& json_text, const std::string& source);

// Files. Throw ModelError naming `path` when it is missing, unreadable, malformed, or lacks a field.
void save_config(const BlipConfig& config, const std::string& path);
BlipConfig load_config(const std::string& path);

// Throws ModelError naming `source` when the config is inconsistent (hidden not divisible by
// heads, image size not a multiple of the patch, a decoder sharing with an absent encoder, ...).
void validate(const BlipConfig& config, const std::string& source);

}  // namespace capfilt::model
