#pragma once
// Text generation for BLIP's image-grounded decoder: greedy decoding, beam search and nucleus
// sampling over a batch of images, with incremental (key/value-cached) decoding.
//
// The search algorithms here see the decoder only through DecoderSteps, a narrow incremental
// interface (feed the next tokens of every row, get the next-token logits; reorder rows), so they are
// tested on hand-made distributions and reused for captions and VQA answers alike.
//
// Conventions follow Hugging Face `generate` as BLIP uses it: sequences start with [DEC], then the
// prompt, then the generated tokens; `max_length` and `min_length` count the whole sequence; a row
// stops at [SEP] (kept in the output) and is padded with [PAD] afterwards.
//
// Threading: nothing here keeps state between calls. The cache, beams and random generator of one
// call live in objects created by that call, so several threads may generate with one shared,
// read-only model.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "model/blip.h"

namespace capfilt::model {

enum class DecodingMethod { kGreedy, kBeamSearch, kNucleus };

struct GenerationTokenIds {
  int64_t bos = 30522;  // [DEC], first token of every generated sequence
  int64_t eos = 102;    // [SEP], ends a sequence
  int64_t pad = 0;      // [PAD], fills rows that ended early
};

struct GenerationOptions {
  DecodingMethod method = DecodingMethod::kBeamSearch;
  int num_beams = 3;          // beam search only
  int num_sequences = 1;      // per image: samples (nucleus) or best hypotheses (beam, <= num_beams)
  float top_p = 0.9f;         // nucleus: keep the smallest set of tokens with probability >= top_p
  int top_k = 0;              // nucleus: also keep at most k tokens; 0 = no limit. (BLIP's released
                              // code inherits Hugging Face's default of 50.)
  float temperature = 1.0f;   // nucleus only
  float repetition_penalty = 1.0f;  // > 1 discourages tokens already in the sequence (CTRL style)
  float length_penalty = 1.0f;      // beam search: hypotheses are ranked by sum log p / length^this
  int max_length = 30;        // whole sequence: [DEC] + prompt + generated tokens incl. [SEP]
  int min_length = 10;        // [SEP] is forbidden until the sequence holds this many tokens
  uint64_t seed = 0;          // nucleus sampling's random generator
  // Nucleus: one seed per image; image i's samples then come from its own generator, so they do
  // not depend on which other images share the batch (resumed and sharded runs reproduce them).
  // Empty: one generator seeded with `seed` for the whole batch.
  std::vector<uint64_t> image_seeds;
  bool use_cache = true;      // false: recompute every position at every step (for tests/benchmarks)
  std::vector<int64_t> prompt_ids;  // tokens after [DEC], e.g. "a picture of" (no [CLS]/[SEP])
  GenerationTokenIds tokens;
};

// The released BLIP code's captioning settings: 3 beams, max length 30, min length 10. The caller
// adds the prompt's ids ("a picture of ").
GenerationOptions captioning_defaults();
// The released BLIP code's VQA answer settings: 3 beams, max length 10, min length 1.
GenerationOptions vqa_defaults();

// Throws ModelError for settings that cannot work: no beams, max_length below min_length, a prompt
// that leaves no room for a generated token, top_p outside (0, 1], ...
void validate(const GenerationOptions& options);

// Decoder rows the search needs per image: beams for beam search, samples for nucleus, 1 for greedy.
int rows_per_image(const GenerationOptions& options);

struct GenerationOutput {
  // [images * num_sequences, length] int64: [DEC], prompt, generated tokens, [SEP], then [PAD].
  // Rows of image i are i * num_sequences ... (i + 1) * num_sequences - 1, best first for beams.
  torch::Tensor ids;
  // [images * num_sequences] fp32: the model's log-probability of the generated tokens (incl. [SEP],
  // excluding the prompt), from the unmodified logits.
  torch::Tensor log_probs;
  // [images * num_sequences] fp32: what the search ranked by (beam search: length-normalised sum of
  // the processed log-probabilities); equal to log_probs for greedy and nucleus.
  torch::Tensor scores;
  int64_t prompt_length = 1;  // [DEC] + prompt
  int num_sequences = 1;
  GenerationTokenIds tokens;

  // Generated token ids of `row`: without [DEC], prompt, [SEP] or padding.
  std::vector<int64_t> generated(int64_t row) const;
};

// One incremental decoding session over a fixed number of rows (images x beams or samples).
// Implementations own the per-call state (key/value cache); the model behind them stays read-only.
class DecoderSteps {
 public:
  virtual ~DecoderSteps() = default;
  // Feeds `tokens` [rows, n] int64, the next n tokens of every row after those fed before, and
  // returns the logits of the token that follows, [rows, vocab].
  virtual torch::Tensor step(const torch::Tensor& tokens) = 0;
  // Row r continues what old row rows[r] held (beam search keeps, drops and copies beams).
  virtual void reorder(const torch::Tensor& rows) = 0;
};

// DecoderSteps without a cache: keeps the token history and recomputes every position at every
// step through `forward` ([rows, t] ids -> [rows, t, vocab] or [rows, vocab] logits of the last).
class UncachedDecoderSteps : public DecoderSteps {
 public:
  using Forward = std::function<torch::Tensor(const torch::Tensor& ids)>;
  explicit UncachedDecoderSteps(Forward forward) : forward_(std::move(forward)) {}
  torch::Tensor step(const torch::Tensor& tokens) override;
  void reorder(const torch::Tensor& rows) override;

 private:
  Forward forward_;
  torch::Tensor history_;
};

// Runs options.method over `images` images. `steps` must hold images * rows_per_image(options) rows,
// row r belonging to image r / rows_per_image(options). Validates the options first.
GenerationOutput run_search(DecoderSteps& steps, int64_t images, const GenerationOptions& options);

// Generation with a BLIP decoder. The tokens ([DEC], [SEP], [PAD]) come from the model's config;
// options.tokens is ignored. Runs under InferenceMode; `model` is only read.
//
// Captions for normalised pixels [images, 3, H, W]: the image encoder runs once per image, the
// cross-attention keys/values over its tokens are computed once and shared by every beam/sample.
GenerationOutput generate_captions(const BlipImpl& model, const torch::Tensor& pixels,
                                   const GenerationOptions& options);
// The same from encoder states already computed: image tokens, or for VQA the question states.
// states [images, N, width]; mask [images, N] (1 = visible; undefined = all visible).
GenerationOutput generate_from_states(const BlipImpl& model, const torch::Tensor& states,
                                      const torch::Tensor& mask, const GenerationOptions& options);

// Building blocks of the search, exposed for tests. All take and return [rows, vocab] scores.
// Divides positive (multiplies negative) scores of tokens present in `history` [rows, t].
torch::Tensor apply_repetition_penalty(const torch::Tensor& scores, const torch::Tensor& history,
                                       float penalty);
// Sets to -inf every token outside the smallest set whose probability mass reaches top_p (at least
// one token is kept).
torch::Tensor apply_top_p(const torch::Tensor& logits, float top_p);
// One token per row drawn from softmax(scores) restricted to the row's top_p nucleus (all tokens
// when top_p >= 1), by inverse CDF: uniforms [rows] in [0, 1) pick the token whose share of the
// kept mass, counted in vocabulary order, covers u * mass. One random number per row instead of
// an exponential draw per vocabulary entry (torch::multinomial), and no second softmax.
torch::Tensor sample_top_p(const torch::Tensor& scores, float top_p, const torch::Tensor& uniforms);
// Sets to -inf every token outside the k highest.
torch::Tensor apply_top_k(const torch::Tensor& logits, int top_k);

}  // namespace capfilt::model
