#pragma once
// The composed BLIP model: image encoder (ViT), MED text encoder and decoder, ITM head, ITC
// projections and temperature. Which parts exist and how the decoder shares weights with the
// encoder come from BlipConfig::components / sharing; absent parts are null holders.
//
// Registered names equal the Salesforce BLIP checkpoint paths (visual_encoder.*, text_encoder.*,
// text_decoder.bert.*, text_decoder.cls.predictions.*, itm_head, vision_proj, text_proj, temp).
// Shared modules are registered once, under text_encoder.*, so named_parameters() lists every
// tensor exactly once and optimisers never update one twice.
//
// Forward methods are const and do not modify the module; the loaded model may be shared by
// threads (each with its own DecoderState). Model-internal header (includes Torch).

#include <torch/torch.h>

#include "model/config.h"
#include "model/text_transformer.h"
#include "model/vision_transformer.h"

namespace capfilt::model {

class BlipImpl : public torch::nn::Module {
 public:
  explicit BlipImpl(const BlipConfig& config);

  const BlipConfig& config() const { return config_; }
  bool has_vision() const { return !visual_encoder.is_empty(); }
  bool has_text_encoder() const { return !text_encoder.is_empty(); }
  bool has_text_decoder() const { return !text_decoder.is_empty(); }
  bool has_itm_head() const { return !itm_head.is_empty(); }
  bool has_projections() const { return !vision_proj.is_empty(); }

  // Image tokens [B, 1 + patches, vision hidden] from normalised pixels [B, 3, H, W].
  torch::Tensor encode_image(const torch::Tensor& pixels) const;

  // MED hidden states [B, L, text hidden]. kUnimodal runs the encoder without the image;
  // kImageGrounded the encoder with cross-attention; kDecoder the decoder's transformer.
  // image_mask [B, N] undefined = all image tokens visible.
  // probe (image-grounded modes; may be null): see AttentionProbe.
  torch::Tensor text_hidden(TextMode mode, const torch::Tensor& ids, const torch::Tensor& mask,
                            const torch::Tensor& image_embeds = {},
                            const torch::Tensor& image_mask = {},
                            AttentionProbe* probe = nullptr) const;

  // ITM logits [B, 2] (column 1 = match) of image_embeds[i] with text i. The caller chooses the
  // first token: [ENC] as BLIP pre-training does, or [CLS] as the Hugging Face / BLIP-ITM code.
  // probe (may be null) keeps one encoder layer's cross-attention map (model/gradcam.h).
  torch::Tensor itm_logits(const torch::Tensor& image_embeds, const torch::Tensor& ids,
                           const torch::Tensor& mask, AttentionProbe* probe = nullptr) const;
  // Normalised ITC features [B, embed_dim]: vision_proj of the image [CLS] token and text_proj of
  // the unimodal text [CLS] output.
  torch::Tensor image_features(const torch::Tensor& image_embeds) const;
  torch::Tensor text_features(const torch::Tensor& ids, const torch::Tensor& mask) const;

  // Decoder logits [B, L, vocab] with teacher forcing (ids start with [DEC]).
  torch::Tensor lm_logits(const torch::Tensor& image_embeds, const torch::Tensor& ids,
                          const torch::Tensor& mask) const;
  // The decoder's last hidden states [B, L, hidden]; lm_logits is text_decoder->lm_head of them
  // (training applies the head only where the loss counts).
  torch::Tensor lm_hidden(const torch::Tensor& image_embeds, const torch::Tensor& ids,
                          const torch::Tensor& mask) const;

  // Incremental decoding over image tokens (or, for the VQA answer decoder, question states).
  DecoderState start_decoding(const torch::Tensor& encoder_states,
                              const torch::Tensor& encoder_mask = {}) const;
  torch::Tensor decode_step(const torch::Tensor& ids, DecoderState& state,
                            const torch::Tensor& mask = {}) const;

  VisionTransformer visual_encoder{nullptr};  // visual_encoder.*
  TextTransformer text_encoder{nullptr};      // text_encoder.*
  TextDecoder text_decoder{nullptr};          // text_decoder.*
  torch::nn::Linear itm_head{nullptr};        // itm_head
  torch::nn::Linear vision_proj{nullptr};     // vision_proj
  torch::nn::Linear text_proj{nullptr};       // text_proj
  torch::Tensor temp;                         // temp (scalar ITC temperature), with projections

 private:
  void require(bool present, const char* part) const;
  BlipConfig config_;
};
TORCH_MODULE(Blip);

// Copies `ids` and sets the first column to `token` (BLIP's [CLS] -> [ENC] / [DEC] swap).
torch::Tensor with_first_token(const torch::Tensor& ids, int64_t token);

// Number of parameters (each tensor counted once).
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace capfilt::model
