#include "model/generation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "model/error.h"

namespace capfilt::model {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check(bool ok, const std::string& message) {
  if (!ok) throw ModelError("generation options: " + message);
}

torch::Tensor prefix_ids(int64_t rows, const GenerationOptions& options) {
  std::vector<int64_t> prefix{options.tokens.bos};
  prefix.insert(prefix.end(), options.prompt_ids.begin(), options.prompt_ids.end());
  auto one = torch::tensor(prefix, torch::kLong).unsqueeze(0);
  return one.expand({rows, one.size(1)}).contiguous();
}

// Forbids [SEP] while the sequence (of length `cur_len`) is shorter than min_length.
void apply_min_length(torch::Tensor& scores, int64_t cur_len, const GenerationOptions& options) {
  if (cur_len < options.min_length) scores.select(1, options.tokens.eos).fill_(kNegInf);
}

// Greedy decoding and nucleus sampling: one token per row per step, rows independent.
GenerationOutput sample_or_greedy(DecoderSteps& steps, int64_t images,
                                  const GenerationOptions& options) {
  const bool greedy = options.method == DecodingMethod::kGreedy;
  const int64_t per_image = rows_per_image(options);
  const int64_t rows = images * per_image;
  torch::Tensor seqs = prefix_ids(rows, options);  // CPU, grows by one column per step
  const int64_t prompt_length = seqs.size(1);
  auto finished = torch::zeros({rows}, torch::kBool);
  auto log_probs = torch::zeros({rows}, torch::kFloat);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  std::vector<at::Generator> row_generators;
  if (!greedy && !options.image_seeds.empty()) {
    if (static_cast<int64_t>(options.image_seeds.size()) != images) {
      throw ModelError("generation: " + std::to_string(options.image_seeds.size()) +
                       " image seeds for " + std::to_string(images) + " images");
    }
    for (int64_t r = 0; r < rows; ++r) {
      const uint64_t seed = options.image_seeds[static_cast<size_t>(r / per_image)];
      row_generators.push_back(at::make_generator<at::CPUGeneratorImpl>(seed + r % per_image));
    }
  }

  torch::Tensor feed = seqs;
  while (seqs.size(1) < options.max_length) {
    torch::Tensor logits = steps.step(feed).to(torch::kCPU, torch::kFloat);
    torch::Tensor raw_log_probs = torch::log_softmax(logits, -1);
    torch::Tensor scores = apply_repetition_penalty(logits, seqs, options.repetition_penalty);
    apply_min_length(scores, seqs.size(1), options);
    torch::Tensor next;
    if (greedy) {
      next = scores.argmax(-1);
    } else {
      if (options.temperature != 1.0f) scores = scores / options.temperature;
      if (options.top_k > 0) scores = apply_top_k(scores, options.top_k);
      torch::Tensor uniforms;
      if (row_generators.empty()) {
        uniforms = torch::rand({rows}, generator, torch::kDouble);
      } else {
        uniforms = torch::empty({rows}, torch::kDouble);
        for (int64_t r = 0; r < rows; ++r) {
          uniforms[r] = torch::rand({1}, row_generators[static_cast<size_t>(r)], torch::kDouble)
                            .item<double>();
        }
      }
      next = sample_top_p(scores, options.top_p, uniforms);
    }
    torch::Tensor token_log_probs = raw_log_probs.gather(1, next.unsqueeze(1)).squeeze(1);
    log_probs += token_log_probs.masked_fill(finished, 0.0);
    next = next.masked_fill(finished, options.tokens.pad);
    finished = finished | next.eq(options.tokens.eos);
    seqs = torch::cat({seqs, next.unsqueeze(1)}, 1);
    if (finished.all().item<bool>()) break;
    feed = next.unsqueeze(1);
  }
  GenerationOutput out;
  out.ids = seqs;
  out.log_probs = log_probs;
  out.scores = log_probs.clone();
  out.prompt_length = prompt_length;
  out.num_sequences = static_cast<int>(per_image);
  out.tokens = options.tokens;
  return out;
}

// The finished hypotheses of one image, as Hugging Face's BeamHypotheses keeps them.
struct Hypotheses {
  struct Hyp {
    float score;     // length-normalised processed log-probability
    float log_prob;  // raw model log-probability of the generated tokens
    std::vector<int64_t> ids;  // without the final [SEP]
  };
  int num_beams;
  float length_penalty;
  std::vector<Hyp> hyps;
  float worst = 1e9f;
  bool done = false;

  void add(std::vector<int64_t> ids, float sum_log_probs, float log_prob) {
    const float score =
        sum_log_probs / std::pow(static_cast<float>(ids.size()), length_penalty);
    if (static_cast<int>(hyps.size()) < num_beams || score > worst) {
      hyps.push_back({score, log_prob, std::move(ids)});
      if (static_cast<int>(hyps.size()) > num_beams) {
        auto worst_it = std::min_element(hyps.begin(), hyps.end(),
                                         [](const Hyp& a, const Hyp& b) { return a.score < b.score; });
        hyps.erase(worst_it);
        worst = std::min_element(hyps.begin(), hyps.end(), [](const Hyp& a, const Hyp& b) {
                  return a.score < b.score;
                })->score;
      } else {
        worst = std::min(score, worst);
      }
    }
  }

  // No open beam can still beat the worst kept hypothesis (early_stopping=False semantics).
  bool is_done(float best_sum_log_probs, int64_t cur_len) const {
    if (static_cast<int>(hyps.size()) < num_beams) return false;
    const float best_possible =
        best_sum_log_probs / std::pow(static_cast<float>(cur_len), length_penalty);
    return worst >= best_possible;
  }
};

std::vector<int64_t> row_ids(const torch::Tensor& seqs, int64_t row) {
  auto r = seqs[row].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

GenerationOutput beam_search(DecoderSteps& steps, int64_t images, const GenerationOptions& options) {
  const int64_t K = options.num_beams;
  const int64_t rows = images * K;
  torch::Tensor seqs = prefix_ids(rows, options);
  const int64_t prompt_length = seqs.size(1);
  // Only the first beam of each image is live at the start, so the first step does not pick the
  // same token K times.
  auto beam_scores = torch::zeros({images, K}, torch::kFloat);
  beam_scores.slice(1, 1).fill_(-1e9f);
  beam_scores = beam_scores.view({-1});
  auto beam_log_probs = torch::zeros({rows}, torch::kFloat);
  std::vector<Hypotheses> hyps(images, Hypotheses{static_cast<int>(K), options.length_penalty, {}});

  torch::Tensor feed = seqs;
  while (seqs.size(1) < options.max_length) {
    const int64_t cur_len = seqs.size(1);
    torch::Tensor logits = steps.step(feed).to(torch::kCPU, torch::kFloat);
    const int64_t vocab = logits.size(1);
    torch::Tensor raw = torch::log_softmax(logits, -1);
    torch::Tensor scores = apply_repetition_penalty(raw, seqs, options.repetition_penalty);
    apply_min_length(scores, cur_len, options);
    scores = (scores + beam_scores.unsqueeze(1)).view({images, K * vocab});
    auto [top_scores, top_index] = scores.topk(2 * K, 1, true, true);
    torch::Tensor top_raw = raw.view({images, K * vocab}).gather(1, top_index);
    auto top_s = top_scores.accessor<float, 2>();
    auto top_i = top_index.accessor<int64_t, 2>();
    auto top_r = top_raw.accessor<float, 2>();
    auto beam_lp = beam_log_probs.accessor<float, 1>();

    std::vector<int64_t> next_tokens(rows, options.tokens.pad), next_src(rows);
    std::vector<float> next_scores(rows, 0.0f), next_log_probs(rows, 0.0f);
    for (int64_t b = 0; b < images; ++b) {
      Hypotheses& h = hyps[b];
      if (h.done) {
        for (int64_t k = 0; k < K; ++k) next_src[b * K + k] = b * K;
        continue;
      }
      int64_t filled = 0;
      for (int64_t j = 0; j < 2 * K && filled < K; ++j) {
        const int64_t src = b * K + top_i[b][j] / vocab;
        const int64_t token = top_i[b][j] % vocab;
        const float log_prob = beam_lp[src] + top_r[b][j];
        if (token == options.tokens.eos) {
          if (j < K) h.add(row_ids(seqs, src), top_s[b][j], log_prob);
          continue;
        }
        const int64_t slot = b * K + filled++;
        next_tokens[slot] = token;
        next_src[slot] = src;
        next_scores[slot] = top_s[b][j];
        next_log_probs[slot] = log_prob;
      }
      h.done = h.done || h.is_done(top_scores[b].max().item<float>(), cur_len);
    }
    auto src = torch::tensor(next_src, torch::kLong);
    auto tokens = torch::tensor(next_tokens, torch::kLong).unsqueeze(1);
    seqs = torch::cat({seqs.index_select(0, src), tokens}, 1);
    beam_scores = torch::tensor(next_scores, torch::kFloat);
    beam_log_probs = torch::tensor(next_log_probs, torch::kFloat);
    if (std::all_of(hyps.begin(), hyps.end(), [](const Hypotheses& h) { return h.done; })) break;
    if (seqs.size(1) >= options.max_length) break;
    steps.reorder(src);
    feed = tokens;
  }

  // Open beams of unfinished images compete with the finished hypotheses.
  for (int64_t b = 0; b < images; ++b) {
    if (hyps[b].done) continue;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t row = b * K + k;
      hyps[b].add(row_ids(seqs, row), beam_scores[row].item<float>(),
                  beam_log_probs[row].item<float>());
    }
  }
  const int64_t n = options.num_sequences;
  std::vector<Hypotheses::Hyp> best;
  int64_t longest = 0;
  for (auto& h : hyps) {
    std::stable_sort(h.hyps.begin(), h.hyps.end(),
                     [](const auto& a, const auto& b) { return a.score > b.score; });
    for (int64_t i = 0; i < n; ++i) {
      longest = std::max<int64_t>(longest, static_cast<int64_t>(h.hyps[i].ids.size()));
      best.push_back(h.hyps[i]);
    }
  }
  const int64_t length = std::min<int64_t>(longest + 1, options.max_length);
  GenerationOutput out;
  out.ids = torch::full({images * n, length}, options.tokens.pad, torch::kLong);
  out.log_probs = torch::empty({images * n}, torch::kFloat);
  out.scores = torch::empty({images * n}, torch::kFloat);
  for (size_t r = 0; r < best.size(); ++r) {
    const auto& ids = best[r].ids;
    auto row = out.ids[static_cast<int64_t>(r)];
    row.slice(0, 0, static_cast<int64_t>(ids.size()))
        .copy_(torch::tensor(ids, torch::kLong));
    if (static_cast<int64_t>(ids.size()) < length) row[static_cast<int64_t>(ids.size())] = options.tokens.eos;
    out.log_probs[static_cast<int64_t>(r)] = best[r].log_prob;
    out.scores[static_cast<int64_t>(r)] = best[r].score;
  }
  out.prompt_length = prompt_length;
  out.num_sequences = static_cast<int>(n);
  out.tokens = options.tokens;
  return out;
}

// Incremental decoding with BLIP's key/value cache; the state belongs to this object alone.
class CachedBlipSteps : public DecoderSteps {
 public:
  CachedBlipSteps(const BlipImpl& model, DecoderState state, torch::Device device)
      : model_(model), state_(std::move(state)), device_(device) {}
  torch::Tensor step(const torch::Tensor& tokens) override {
    return model_.decode_step(tokens.to(device_), state_);
  }
  void reorder(const torch::Tensor& rows) override { state_.reorder(rows); }  // rows on the CPU

 private:
  const BlipImpl& model_;
  DecoderState state_;
  torch::Device device_;
};

}  // namespace

GenerationOutput generate_from_states(const BlipImpl& model, const torch::Tensor& states,
                                      const torch::Tensor& mask, const GenerationOptions& options) {
  torch::InferenceMode guard;
  GenerationOptions o = options;
  const auto& special = model.config().text.tokens;
  o.tokens = {special.dec, special.sep, special.pad};
  validate(o);
  if (!model.has_text_decoder()) throw ModelError("generation: the model has no text decoder");
  if (states.dim() != 3 || states.size(0) < 1) {
    throw ModelError("generation: encoder states must be [images, tokens, width], got " +
                     std::to_string(states.dim()) + " dimensions");
  }
  const int64_t images = states.size(0);
  const int64_t per_image = rows_per_image(o);
  const auto device = states.device();
  // Row r of the search belongs to image r / per_image.
  auto expand = torch::arange(images, torch::kLong).repeat_interleave(per_image).to(device);
  if (o.use_cache) {
    // Cross-attention keys/values are computed once per image, then copied to its beams/samples.
    DecoderState state = model.start_decoding(states, mask);
    if (per_image > 1) state.reorder(expand);
    CachedBlipSteps steps(model, std::move(state), device);
    return run_search(steps, images, o);
  }
  auto row_states = per_image > 1 ? states.index_select(0, expand) : states;
  auto row_mask = (mask.defined() && per_image > 1) ? mask.index_select(0, expand) : mask;
  UncachedDecoderSteps steps([&](const torch::Tensor& ids) {
    return model.text_decoder->forward(ids.to(device), {}, row_states, row_mask);
  });
  return run_search(steps, images, o);
}

GenerationOutput generate_captions(const BlipImpl& model, const torch::Tensor& pixels,
                                   const GenerationOptions& options) {
  torch::InferenceMode guard;
  validate(options);  // before the image encoder's work
  return generate_from_states(model, model.encode_image(pixels), {}, options);
}

GenerationOptions captioning_defaults() {
  GenerationOptions o;
  o.method = DecodingMethod::kBeamSearch;
  o.num_beams = 3;
  o.max_length = 30;
  o.min_length = 10;
  return o;
}

GenerationOptions vqa_defaults() {
  GenerationOptions o;
  o.method = DecodingMethod::kBeamSearch;
  o.num_beams = 3;
  o.max_length = 10;
  o.min_length = 1;
  return o;
}

void validate(const GenerationOptions& o) {
  check(o.max_length >= 2, "max_length " + std::to_string(o.max_length) +
                               " leaves no room for a generated token after [DEC]");
  check(o.min_length >= 0, "min_length must not be negative");
  check(o.max_length >= o.min_length, "max_length " + std::to_string(o.max_length) +
                                          " is below min_length " + std::to_string(o.min_length));
  const int64_t prefix = 1 + static_cast<int64_t>(o.prompt_ids.size());
  check(prefix < o.max_length, "the prompt ([DEC] + " + std::to_string(o.prompt_ids.size()) +
                                   " tokens) is not shorter than max_length " +
                                   std::to_string(o.max_length));
  check(o.num_sequences >= 1, "num_sequences must be at least 1");
  check(o.repetition_penalty > 0.0f, "repetition_penalty must be positive");
  switch (o.method) {
    case DecodingMethod::kGreedy:
      check(o.num_sequences == 1, "greedy decoding returns one sequence per image");
      break;
    case DecodingMethod::kBeamSearch:
      check(o.num_beams >= 1, "beam count " + std::to_string(o.num_beams) + " (needs at least 1)");
      check(o.num_sequences <= o.num_beams, "num_sequences " + std::to_string(o.num_sequences) +
                                                " exceeds the beam count " +
                                                std::to_string(o.num_beams));
      break;
    case DecodingMethod::kNucleus:
      check(o.top_p > 0.0f && o.top_p <= 1.0f, "top_p must be in (0, 1]");
      check(o.top_k >= 0, "top_k must not be negative");
      check(o.temperature > 0.0f, "temperature must be positive");
      break;
  }
}

int rows_per_image(const GenerationOptions& options) {
  switch (options.method) {
    case DecodingMethod::kBeamSearch: return options.num_beams;
    case DecodingMethod::kNucleus: return options.num_sequences;
    case DecodingMethod::kGreedy: break;
  }
  return 1;
}

std::vector<int64_t> GenerationOutput::generated(int64_t row) const {
  std::vector<int64_t> out;
  auto r = ids[row].to(torch::kCPU).contiguous();
  const int64_t* p = r.data_ptr<int64_t>();
  for (int64_t i = prompt_length; i < r.numel(); ++i) {
    if (p[i] == tokens.eos || p[i] == tokens.pad) break;
    out.push_back(p[i]);
  }
  return out;
}

torch::Tensor UncachedDecoderSteps::step(const torch::Tensor& tokens) {
  history_ = history_.defined() ? torch::cat({history_, tokens.to(history_.device())}, 1) : tokens;
  torch::Tensor logits = forward_(history_);
  return logits.dim() == 3 ? logits.select(1, logits.size(1) - 1) : logits;
}

void UncachedDecoderSteps::reorder(const torch::Tensor& rows) {
  history_ = history_.index_select(0, rows.to(history_.device()));
}

GenerationOutput run_search(DecoderSteps& steps, int64_t images, const GenerationOptions& options) {
  validate(options);
  check(images >= 1, "no images to generate for");
  if (options.method == DecodingMethod::kBeamSearch) return beam_search(steps, images, options);
  return sample_or_greedy(steps, images, options);
}

torch::Tensor apply_repetition_penalty(const torch::Tensor& scores, const torch::Tensor& history,
                                       float penalty) {
  if (penalty == 1.0f) return scores.clone();
  auto index = history.to(scores.device());
  auto seen = scores.gather(1, index);
  seen = torch::where(seen < 0, seen * penalty, seen / penalty);
  return scores.scatter(1, index, seen);
}

// The nucleus of one row without sorting the vocabulary: `probs` are the row's probabilities; on
// return keep[i] says whether token i is among the most likely tokens whose mass, counted from the
// top, first reaches top_p (the token that reaches it included, as the sorted cumulative rule).
// Quickselect on the probability mass: expected O(vocab) instead of a sort per row and step.
void nucleus_row(const float* probs, int64_t n, float top_p, bool* keep) {
  std::vector<int32_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  std::fill(keep, keep + n, false);
  auto commit = [&](auto first, auto last) {
    for (auto it = first; it != last; ++it) keep[*it] = true;
  };
  double need = top_p;  // mass still to cover with tokens from [lo, hi)
  auto lo = idx.begin(), hi = idx.end();
  while (lo != hi) {
    // Pivot: median of three probabilities of the range.
    const float a = probs[*lo], b = probs[*(lo + (hi - lo) / 2)], c = probs[*(hi - 1)];
    const float pivot = std::max(std::min(a, b), std::min(std::max(a, b), c));
    auto upper_end = std::partition(lo, hi, [&](int32_t i) { return probs[i] > pivot; });
    auto equal_end = std::partition(upper_end, hi, [&](int32_t i) { return probs[i] == pivot; });
    double upper = 0.0;
    for (auto it = lo; it != upper_end; ++it) upper += probs[*it];
    if (upper >= need && upper_end != lo) {
      hi = upper_end;  // the boundary lies among the larger tokens
      continue;
    }
    commit(lo, upper_end);
    need -= upper;
    // Equal tokens, one at a time, until the mass is reached (the one that reaches it is kept).
    for (auto it = upper_end; it != equal_end; ++it) {
      keep[*it] = true;
      need -= probs[*it];
      if (need <= 0.0) return;
    }
    lo = equal_end;
  }
}

torch::Tensor sample_top_p(const torch::Tensor& scores, float top_p, const torch::Tensor& uniforms) {
  const torch::Tensor probs = torch::softmax(scores.to(torch::kCPU, torch::kFloat), -1).contiguous();
  const int64_t n = probs.size(-1), rows = probs.numel() / n;
  const torch::Tensor u = uniforms.to(torch::kCPU, torch::kDouble).contiguous();
  if (u.numel() != rows) {
    throw ModelError("sample_top_p: " + std::to_string(u.numel()) + " uniforms for " +
                     std::to_string(rows) + " rows");
  }
  torch::Tensor next = torch::empty({rows}, torch::kLong);
  const float* p = probs.data_ptr<float>();
  const double* draw = u.data_ptr<double>();
  int64_t* out = next.data_ptr<int64_t>();
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    std::unique_ptr<bool[]> keep(new bool[static_cast<size_t>(n)]);
    for (int64_t r = begin; r < end; ++r) {
      const float* row = p + r * n;
      if (top_p < 1.0f) {
        nucleus_row(row, n, top_p, keep.get());
      } else {
        std::fill(keep.get(), keep.get() + n, true);
      }
      double mass = 0.0;
      int64_t last = -1;
      for (int64_t i = 0; i < n; ++i) {
        if (keep[i] && row[i] > 0.0f) mass += row[i], last = i;
      }
      // The kept tokens in vocabulary order cover [0, mass); the draw falls in one of them.
      const double target = draw[r] * mass;
      double covered = 0.0;
      int64_t token = last;
      for (int64_t i = 0; i < n; ++i) {
        if (!keep[i] || row[i] <= 0.0f) continue;
        covered += row[i];
        if (target < covered) {
          token = i;
          break;
        }
      }
      out[r] = token < 0 ? 0 : token;
    }
  });
  return next.to(scores.device());
}

torch::Tensor apply_top_p(const torch::Tensor& logits, float top_p) {
  if (top_p >= 1.0f) return logits;
  torch::Tensor scores = logits.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t n = scores.size(-1), rows = scores.numel() / n;
  torch::Tensor probs = torch::softmax(scores.view({rows, n}), -1).contiguous();
  auto keep = torch::empty({rows, n}, torch::kBool);
  const float* p = probs.data_ptr<float>();
  bool* k = keep.data_ptr<bool>();
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) nucleus_row(p + r * n, n, top_p, k + r * n);
  });
  return logits.masked_fill(keep.view(logits.sizes()).to(logits.device()).logical_not(), kNegInf);
}

torch::Tensor apply_top_k(const torch::Tensor& logits, int top_k) {
  if (top_k <= 0 || top_k >= logits.size(-1)) return logits;
  auto kth = std::get<0>(logits.topk(top_k, -1)).select(-1, top_k - 1).unsqueeze(-1);
  return logits.masked_fill(logits < kth, kNegInf);
}

}  // namespace capfilt::model
