#pragma once
// The BLIP model as the rest of the product sees it: caption images, score (image, text) pairs
// with ITM and ITC, embed images and texts for retrieval, answer questions. Plain C++ (pimpl):
// no Torch type appears here, so ui/ and app/ include it freely; every Torch or OpenCV exception
// is caught inside and returned as a Status whose message a curator can act on.
//
// A BlipEngine is a loaded, read-only model on one device (chosen once, at open). All methods are
// const and thread-safe: several threads may caption and score with one engine at once (each call
// keeps its own decoding state). Images go in as files (decoded and preprocessed by core/ at the
// model's image size), as decoded RGB images, or as pixels the BatchLoader already preprocessed.
// They are encoded once into an EncodedImages, which the captioner and the filter both reuse, so the
// image encoder runs once per image when one model is both.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/image_io.h"
#include "db/status.h"

namespace capfilt::core {

enum class CaptionMethod { kGreedy, kBeamSearch, kNucleus };
const char* to_string(CaptionMethod method);
bool parse(const std::string& name, CaptionMethod* out);  // "greedy", "beam", "nucleus"

struct CaptionOptions {
  CaptionMethod method = CaptionMethod::kNucleus;
  int num_beams = 3;         // beam search
  int num_captions = 1;      // per image: samples (nucleus) or best beams (<= num_beams)
  float top_p = 0.9f;        // nucleus
  int top_k = 0;             // nucleus; 0 = no limit
  float temperature = 1.0f;  // nucleus
  float repetition_penalty = 1.0f;
  float length_penalty = 1.0f;  // beam search
  int max_length = 30;  // tokens: [DEC] + prompt + caption + [SEP]
  int min_length = 5;
  uint64_t seed = 0;    // nucleus: same seed, same captions
  // Nucleus: one seed per image (as many as images), so an image's samples do not depend on the
  // rest of the batch. Empty: `seed` for the whole batch.
  std::vector<uint64_t> image_seeds;
  std::string prompt = "a picture of ";  // kept out of the returned text
};
// CapFilt's captioner settings (the paper's choice): nucleus sampling, top-p 0.9, one caption.
CaptionOptions capfilt_caption_defaults();
// BLIP's captioning settings for display: beam search, 3 beams, max 30, min 10.
CaptionOptions beam_caption_defaults();

struct GeneratedText {
  std::string text;     // without the prompt
  double log_prob = 0;  // model log-probability of the generated tokens
};

// Scores of one (image, text) pair under the filter.
struct PairScore {
  double itm = 0;  // ITM match probability in [0, 1]
  double itc = 0;  // ITC cosine similarity in [-1, 1]; NaN when the model has no projections
};

// One text to score against image `image` (an index into the EncodedImages).
struct ImageText {
  int64_t image = 0;
  std::string text;
};

struct ModelInfo {
  std::string path;      // the folder or file it was loaded from
  std::string kind;      // "captioner", "filter", "vqa", "pretrained" (all parts)
  bool can_caption = false;  // image-grounded decoder present
  bool can_match = false;    // ITM head present
  bool can_embed = false;    // ITC projections present
  bool can_answer = false;   // VQA answer decoder
  int image_size = 0;
  int64_t parameters = 0;
  std::string device;       // "cpu", "cuda:0"
  std::string config_json;  // the model configuration, as the project's models table stores it
};

// Grad-CAM of an (image, text) pair under the ITM head: where each word of the text looks in the
// image, as the BLIP / LAVIS demos show it (model/gradcam.h).
struct GradCamOptions {
  // Cross-attention layer of the image-grounded encoder, 0-based; -1: the 8th of 12 (LAVIS's choice
  // for BLIP base) scaled to the model's depth, never the last layer (whose word maps are all zero).
  int layer = -1;
};

// One word's heat map: the mean of its wordpieces' maps ("##" pieces merged into the word).
struct WordHeatMap {
  std::string word;         // as the tokenizer sees it (lower-cased, accents stripped)
  std::vector<float> heat;  // grid_rows × grid_cols, row-major, >= 0 (not normalised)
};

struct GradCam {
  double itm = 0;                  // ITM match probability of the pair
  int grid_rows = 0, grid_cols = 0;  // the ViT's patch grid; cell (r, c) covers that part of the
                                     // image as preprocessed (resized to a square)
  int layer = 0;                   // the layer used
  std::vector<float> overall;      // mean of the words' tokens' maps (LAVIS's "whole text" map)
  std::vector<WordHeatMap> words;  // in text order; words cut off by the 35-token limit are absent
};

// The first token of texts given to the image-grounded encoder (ITM, VQA questions).
enum class FirstToken {
  kAuto,  // [CLS] for imported Hugging Face models (as they were trained), else [ENC] (BLIP's code)
  kCls,
  kEnc,
};

struct EngineOptions {
  std::string model_path;  // a capfilt checkpoint folder, a Hugging Face folder or a .pth file
  std::string vocab_path;  // vocab.txt of the tokenizer (the model's vocabulary size must match)
  std::string device = "auto";  // auto, cpu, cuda, cuda:N
  FirstToken first_token = FirstToken::kAuto;
};

// Encoded images on the engine's device. Movable; valid only with the engine that made it.
class EncodedImages {
 public:
  EncodedImages();
  ~EncodedImages();
  EncodedImages(EncodedImages&&) noexcept;
  EncodedImages& operator=(EncodedImages&&) noexcept;
  int64_t size() const;

  struct Impl;
  explicit EncodedImages(std::unique_ptr<Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class BlipEngine {
 public:
  // Loads the model and the vocabulary. kNotFound for a missing path; kInvalid for a file that is
  // not a BLIP checkpoint, a vocabulary whose size does not match the model's, a device that is
  // not there; each message names the file.
  static Result<std::unique_ptr<BlipEngine>> open(const EngineOptions& options);
  ~BlipEngine();
  BlipEngine(const BlipEngine&) = delete;
  BlipEngine& operator=(const BlipEngine&) = delete;

  const ModelInfo& info() const;

  // ---- Images in ----
  // Preprocessed pixels: 3 × s × s normalised CHW floats per image, s = info().image_size (what
  // BatchLoader delivers with LoaderOptions::image_size = s).
  Result<EncodedImages> encode_pixels(const std::vector<std::vector<float>>& pixels) const;
  Result<EncodedImages> encode_images(const std::vector<RgbImage>& images) const;
  // Decodes each file; the first that fails is the returned Status (naming the file).
  Result<EncodedImages> encode_files(const std::vector<std::string>& paths) const;
  // The images at `rows` (indices into `images`), in that order, without encoding them again.
  Result<EncodedImages> select(const EncodedImages& images, const std::vector<int64_t>& rows) const;

  // ---- Captioner ----
  // Captions of every image: result[i] holds options.num_captions captions of image i, best first
  // for beam search. kUnsupported when the model has no decoder; kInvalid for impossible options.
  Result<std::vector<std::vector<GeneratedText>>> caption(const EncodedImages& images,
                                                          const CaptionOptions& options) const;

  // ---- Filter ----
  // ITM probability and ITC similarity of every pair, in order. kUnsupported without an ITM head.
  Result<std::vector<PairScore>> score(const EncodedImages& images,
                                       const std::vector<ImageText>& pairs) const;
  // Grad-CAM heat maps of `text` over image `image` (see GradCam). kUnsupported without an ITM
  // head; kInvalid for a layer the model does not have.
  Result<GradCam> itm_gradcam(const EncodedImages& images, int64_t image, const std::string& text,
                              const GradCamOptions& options = {}) const;
  // L2-normalised ITC embeddings [images][embed_dim] and [texts][embed_dim].
  Result<std::vector<std::vector<float>>> image_embeddings(const EncodedImages& images) const;
  Result<std::vector<std::vector<float>>> text_embeddings(
      const std::vector<std::string>& texts) const;

  // ---- VQA ----
  // Answers to `question` about image `image`: generated with options (its prompt is ignored).
  Result<std::vector<GeneratedText>> answer(const EncodedImages& images, int64_t image,
                                            const std::string& question,
                                            const CaptionOptions& options) const;
  // Candidates ranked by the answer decoder's log-likelihood, best first.
  Result<std::vector<GeneratedText>> rank_answers(const EncodedImages& images, int64_t image,
                                                  const std::string& question,
                                                  const std::vector<std::string>& candidates) const;

  struct Impl;

 private:
  explicit BlipEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace capfilt::core
