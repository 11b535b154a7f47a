// BlipEngine: the Torch side of core/blip_engine.h. Every public method catches what the model and
// Torch throw and returns it as a Status naming the model.

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/blip_engine.h"
#include "core/preprocess.h"
#include "core/torch/engine_internal.h"
#include "model/config.h"
#include "model/error.h"
#include "model/generation.h"
#include "model/gradcam.h"
#include "model/hf_import.h"
#include "model/runtime.h"

namespace capfilt::core {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kScoreChunk = 64;      // pairs per ITM forward: bounds activation memory
constexpr int64_t kMaxTextTokens = 35;   // BLIP's max text length for ITM/ITC

// Runs `body`, turning the model's and Torch's exceptions into a Status prefixed with `what`.
template <typename T, typename Body>
Result<T> guarded(const std::string& what, Body&& body) {
  try {
    return body();
  } catch (const model::ModelError& e) {
    return Status::invalid(what + ": " + e.what());
  } catch (const c10::Error& e) {
    return Status::invalid(what + ": " + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    return Status::io_error(what + ": out of memory (try a smaller batch)");
  } catch (const std::exception& e) {
    return Status::invalid(what + ": " + e.what());
  }
}

// An HF folder's config.json names a model_type; ours does not.
bool is_hugging_face_folder(const std::string& path) {
  const fs::path config = fs::path(path) / "config.json";
  std::ifstream in(config);
  if (!in) return false;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.contains("model_type");
}

std::string kind_of(const model::BlipImpl& m) {
  const bool dec = m.has_text_decoder(), itm = m.has_itm_head(), enc = m.has_text_encoder();
  if (dec && itm) return "pretrained";
  if (dec && enc && !m.has_projections()) return "vqa";
  if (dec) return "captioner";
  return "filter";
}

model::GenerationOptions to_generation(const CaptionOptions& o, const model::Tokenizer& tok) {
  model::GenerationOptions g;
  switch (o.method) {
    case CaptionMethod::kGreedy: g.method = model::DecodingMethod::kGreedy; break;
    case CaptionMethod::kBeamSearch: g.method = model::DecodingMethod::kBeamSearch; break;
    case CaptionMethod::kNucleus: g.method = model::DecodingMethod::kNucleus; break;
  }
  g.num_beams = o.num_beams;
  g.num_sequences = o.num_captions;
  g.top_p = o.top_p;
  g.top_k = o.top_k;
  g.temperature = o.temperature;
  g.repetition_penalty = o.repetition_penalty;
  g.length_penalty = o.length_penalty;
  g.max_length = o.max_length;
  g.min_length = o.min_length;
  g.seed = o.seed;
  g.image_seeds = o.image_seeds;
  if (!o.prompt.empty()) g.prompt_ids = tok.encode(o.prompt, false);
  return g;
}

std::vector<std::vector<GeneratedText>> to_texts(const model::GenerationOutput& out,
                                                 const model::Tokenizer& tok, int64_t images) {
  std::vector<std::vector<GeneratedText>> result(static_cast<size_t>(images));
  const auto log_probs = out.log_probs.to(torch::kCPU, torch::kDouble);
  for (int64_t row = 0; row < out.ids.size(0); ++row) {
    result[static_cast<size_t>(row / out.num_sequences)].push_back(
        {tok.decode(out.generated(row)), log_probs[row].item<double>()});
  }
  return result;
}

model::TextBatch tokenize(const model::Tokenizer& tok, const std::vector<std::string>& texts,
                          torch::Device device) {
  auto enc = tok.encode_batch(texts, {true, model::Padding::kLongest, kMaxTextTokens});
  return {torch::tensor(enc.input_ids, torch::kLong).view({enc.batch_size, enc.seq_len}).to(device),
          torch::tensor(enc.attention_mask, torch::kLong)
              .view({enc.batch_size, enc.seq_len})
              .to(device)};
}

std::vector<std::vector<float>> to_rows(const torch::Tensor& t) {
  const auto cpu = t.to(torch::kCPU, torch::kFloat).contiguous();
  std::vector<std::vector<float>> rows(static_cast<size_t>(cpu.size(0)));
  for (int64_t i = 0; i < cpu.size(0); ++i) {
    const float* p = cpu[i].data_ptr<float>();
    rows[static_cast<size_t>(i)].assign(p, p + cpu.size(1));
  }
  return rows;
}

}  // namespace

// ---- EncodedImages ----

EncodedImages::EncodedImages() : impl_(std::make_unique<Impl>()) {}
EncodedImages::EncodedImages(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EncodedImages::~EncodedImages() = default;
EncodedImages::EncodedImages(EncodedImages&&) noexcept = default;
EncodedImages& EncodedImages::operator=(EncodedImages&&) noexcept = default;
int64_t EncodedImages::size() const {
  return impl_ && impl_->tokens.defined() ? impl_->tokens.size(0) : 0;
}

// ---- options ----

const char* to_string(CaptionMethod method) {
  switch (method) {
    case CaptionMethod::kGreedy: return "greedy";
    case CaptionMethod::kBeamSearch: return "beam";
    case CaptionMethod::kNucleus: return "nucleus";
  }
  return "nucleus";
}

bool parse(const std::string& name, CaptionMethod* out) {
  for (auto m : {CaptionMethod::kGreedy, CaptionMethod::kBeamSearch, CaptionMethod::kNucleus}) {
    if (name == to_string(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

CaptionOptions capfilt_caption_defaults() { return CaptionOptions{}; }

CaptionOptions beam_caption_defaults() {
  CaptionOptions o;
  o.method = CaptionMethod::kBeamSearch;
  o.num_beams = 3;
  o.max_length = 30;
  o.min_length = 10;
  return o;
}

// ---- BlipEngine ----

BlipEngine::BlipEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlipEngine::~BlipEngine() = default;

const ModelInfo& BlipEngine::info() const { return impl_->info; }

Result<std::unique_ptr<BlipEngine>> BlipEngine::open(const EngineOptions& options) {
  if (options.model_path.empty()) return Status::invalid("no model given");
  if (!fs::exists(options.model_path)) {
    return Status::not_found(options.model_path + ": no such model folder or file");
  }
  if (!fs::is_regular_file(options.vocab_path)) {
    return Status::not_found(options.vocab_path + ": no such vocabulary file");
  }
  model::DeviceSpec spec;
  std::string device_error;
  if (!model::parse_device(options.device, &spec, &device_error)) {
    return Status::invalid(device_error);
  }
  return guarded<std::unique_ptr<BlipEngine>>(options.model_path, [&] {
    auto impl = std::make_unique<Impl>();
    impl->device = torch::Device(spec.to_string());
    impl->model = model::load_model(options.model_path);
    impl->model->eval();
    impl->model->to(impl->device);
    impl->tokenizer = std::make_unique<model::Tokenizer>(
        model::Tokenizer::from_vocab_file(options.vocab_path));
    const auto& config = impl->model->config();
    if (impl->tokenizer->size() != config.text.vocab_size) {
      throw model::ModelError("the vocabulary " + options.vocab_path + " has " +
                              std::to_string(impl->tokenizer->size()) +
                              " tokens but the model expects " +
                              std::to_string(config.text.vocab_size));
    }
    const bool cls = options.first_token == FirstToken::kCls ||
                     (options.first_token == FirstToken::kAuto &&
                      is_hugging_face_folder(options.model_path));
    if (cls) {
      impl->itm_first = model::ItmFirstToken::kCls;
      impl->vqa_first = model::VqaFirstToken::kCls;
    }
    const model::BlipImpl& m = *impl->model;
    ModelInfo& info = impl->info;
    info.path = options.model_path;
    info.kind = kind_of(m);
    info.can_caption = m.has_vision() && m.has_text_decoder();
    info.can_match = m.has_vision() && m.has_text_encoder() && m.has_itm_head();
    info.can_embed = m.has_vision() && m.has_text_encoder() && m.has_projections();
    info.can_answer = m.has_vision() && m.has_text_encoder() && m.has_text_decoder();
    info.image_size = static_cast<int>(config.vision.image_size);
    info.parameters = model::parameter_count(m);
    info.device = spec.to_string();
    info.config_json = model::config_to_json(config);
    if (!m.has_vision()) throw model::ModelError("the model has no image encoder");
    return std::unique_ptr<BlipEngine>(new BlipEngine(std::move(impl)));
  });
}

Result<EncodedImages> BlipEngine::encode_pixels(
    const std::vector<std::vector<float>>& pixels) const {
  const int64_t size = impl_->info.image_size;
  const size_t expected = static_cast<size_t>(3 * size * size);
  for (size_t i = 0; i < pixels.size(); ++i) {
    if (pixels[i].size() != expected) {
      return Status::invalid("image " + std::to_string(i) + " has " +
                             std::to_string(pixels[i].size()) + " values; the model expects 3 × " +
                             std::to_string(size) + " × " + std::to_string(size));
    }
  }
  if (pixels.empty()) return Status::invalid("no images to encode");
  return guarded<EncodedImages>(impl_->info.path, [&] {
    torch::InferenceMode guard;
    auto batch = torch::empty({static_cast<int64_t>(pixels.size()), 3, size, size});
    for (size_t i = 0; i < pixels.size(); ++i) {
      std::memcpy(batch[static_cast<int64_t>(i)].data_ptr<float>(), pixels[i].data(),
                  expected * sizeof(float));
    }
    const model::BlipImpl& m = *impl_->model;
    auto encoded = std::make_unique<EncodedImages::Impl>();
    encoded->engine = impl_.get();
    encoded->tokens = m.encode_image(batch.to(impl_->device));
    if (m.has_projections()) encoded->embedding = m.image_features(encoded->tokens);
    return EncodedImages(std::move(encoded));
  });
}

Result<EncodedImages> BlipEngine::encode_images(const std::vector<RgbImage>& images) const {
  std::vector<std::vector<float>> pixels;
  pixels.reserve(images.size());
  for (const auto& image : images) {
    if (image.empty()) return Status::invalid("an empty image cannot be encoded");
    pixels.push_back(preprocess_for_blip(image, impl_->info.image_size));
  }
  return encode_pixels(pixels);
}

Result<EncodedImages> BlipEngine::encode_files(const std::vector<std::string>& paths) const {
  std::vector<std::vector<float>> pixels;
  pixels.reserve(paths.size());
  for (const auto& path : paths) {
    auto image = decode_image_file(path);
    if (!image) return image.status();
    pixels.push_back(preprocess_for_blip(*image, impl_->info.image_size));
  }
  return encode_pixels(pixels);
}

namespace {
Status check_images(const EncodedImages& images, const void* engine) {
  if (images.size() == 0) return Status::invalid("no images given");
  if (images.impl().engine != engine) {
    return Status::invalid("the images were encoded by another model; encode them again");
  }
  return Status::ok();
}
}  // namespace

Result<EncodedImages> BlipEngine::select(const EncodedImages& images,
                                         const std::vector<int64_t>& rows) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  for (int64_t r : rows) {
    if (r < 0 || r >= images.size()) return Status::invalid("no image " + std::to_string(r));
  }
  if (rows.empty()) return Status::invalid("no images selected");
  return guarded<EncodedImages>(impl_->info.path, [&] {
    torch::InferenceMode guard;
    const auto index = torch::tensor(rows, torch::kLong).to(impl_->device);
    auto out = std::make_unique<EncodedImages::Impl>();
    out->engine = impl_.get();
    out->tokens = images.impl().tokens.index_select(0, index);
    if (images.impl().embedding.defined()) {
      out->embedding = images.impl().embedding.index_select(0, index);
    }
    return EncodedImages(std::move(out));
  });
}

Result<std::vector<std::vector<GeneratedText>>> BlipEngine::caption(
    const EncodedImages& images, const CaptionOptions& options) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  if (!impl_->info.can_caption) {
    return Status::unsupported(impl_->info.path + " is a " + impl_->info.kind +
                               " without an image-grounded decoder: it cannot caption");
  }
  return guarded<std::vector<std::vector<GeneratedText>>>(impl_->info.path, [&] {
    const auto generation = to_generation(options, *impl_->tokenizer);
    model::validate(generation);
    auto out = model::generate_from_states(*impl_->model, images.impl().tokens, {}, generation);
    return to_texts(out, *impl_->tokenizer, images.size());
  });
}

Result<std::vector<PairScore>> BlipEngine::score(const EncodedImages& images,
                                                 const std::vector<ImageText>& pairs) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  if (!impl_->info.can_match) {
    return Status::unsupported(impl_->info.path + " is a " + impl_->info.kind +
                               " without an ITM head: it cannot score captions");
  }
  for (const auto& p : pairs) {
    if (p.image < 0 || p.image >= images.size()) {
      return Status::invalid("pair names image " + std::to_string(p.image) + " of " +
                             std::to_string(images.size()));
    }
  }
  return guarded<std::vector<PairScore>>(impl_->info.path, [&] {
    torch::InferenceMode guard;
    model::Scorer scorer(impl_->model, impl_->itm_first);
    const auto& enc = images.impl();
    std::vector<PairScore> scores;
    scores.reserve(pairs.size());
    for (size_t begin = 0; begin < pairs.size(); begin += kScoreChunk) {
      const size_t end = std::min(pairs.size(), begin + static_cast<size_t>(kScoreChunk));
      std::vector<int64_t> rows;
      std::vector<std::string> texts;
      for (size_t i = begin; i < end; ++i) {
        rows.push_back(pairs[i].image);
        texts.push_back(pairs[i].text);
      }
      const auto index = torch::tensor(rows, torch::kLong).to(impl_->device);
      model::ImageEncoding chunk{enc.tokens.index_select(0, index), {}};
      const auto text = tokenize(*impl_->tokenizer, texts, impl_->device);
      const auto itm = scorer.itm_probability(chunk, text).to(torch::kCPU, torch::kDouble);
      torch::Tensor itc;
      if (enc.embedding.defined()) {
        itc = model::Scorer::pair_similarity(enc.embedding.index_select(0, index),
                                             scorer.text_embeddings(text))
                  .to(torch::kCPU, torch::kDouble);
      }
      for (size_t i = 0; i < texts.size(); ++i) {
        const auto k = static_cast<int64_t>(i);
        scores.push_back({itm[k].item<double>(),
                          itc.defined() ? itc[k].item<double>() : std::nan("")});
      }
    }
    return scores;
  });
}

namespace {

// Wordpieces of `text` as the ITM input holds them (positions 1.., after [CLS]/[ENC]) grouped into
// words: each word's text and its token positions.
struct WordTokens {
  std::string word;
  std::vector<int64_t> positions;
};

std::vector<WordTokens> words_of(const model::Tokenizer& tok, const std::string& text,
                                 int64_t tokens_in_input) {
  std::vector<WordTokens> words;
  const auto pieces = tok.tokenize(text);
  const int64_t usable = tokens_in_input - 2;  // less [CLS]/[ENC] and [SEP]
  for (int64_t i = 0; i < static_cast<int64_t>(pieces.size()) && i < usable; ++i) {
    const std::string& piece = pieces[static_cast<size_t>(i)];
    const bool continues = piece.rfind("##", 0) == 0 && !words.empty();
    if (!continues) words.push_back({piece, {}});
    if (continues) words.back().word += piece.substr(2);
    words.back().positions.push_back(i + 1);
  }
  // A word the truncation cut in two is left out: its map would be partial.
  const bool cut_in_word = usable >= 0 && static_cast<size_t>(usable) < pieces.size() &&
                           pieces[static_cast<size_t>(usable)].rfind("##", 0) == 0;
  if (cut_in_word && !words.empty()) words.pop_back();
  return words;
}

std::vector<float> mean_map(const torch::Tensor& maps, const std::vector<int64_t>& positions) {
  torch::Tensor index = torch::tensor(positions, torch::kLong);
  torch::Tensor mean = maps.index_select(0, index).mean(0).contiguous();
  const float* p = mean.data_ptr<float>();
  return std::vector<float>(p, p + mean.numel());
}

}  // namespace

Result<GradCam> BlipEngine::itm_gradcam(const EncodedImages& images, int64_t image,
                                        const std::string& text,
                                        const GradCamOptions& options) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  if (image < 0 || image >= images.size()) {
    return Status::invalid("no image " + std::to_string(image) + " among " +
                           std::to_string(images.size()));
  }
  if (!impl_->info.can_match) {
    return Status::unsupported(impl_->info.path + " is a " + impl_->info.kind +
                               " without an ITM head: it has no Grad-CAM");
  }
  const int64_t layers = impl_->model->config().text.layers;
  if (options.layer < -1 || options.layer >= layers) {
    return Status::invalid("Grad-CAM layer " + std::to_string(options.layer) + ": the model's " +
                           "image-grounded encoder has layers 0 to " + std::to_string(layers - 1));
  }
  return guarded<GradCam>(impl_->info.path, [&] {
    const auto batch = tokenize(*impl_->tokenizer, {text}, impl_->device);
    const torch::Tensor ids =
        impl_->itm_first == model::ItmFirstToken::kEnc
            ? model::with_first_token(batch.ids, impl_->model->config().text.tokens.enc)
            : batch.ids;
    const auto result = model::itm_gradcam(*impl_->model, images.impl().tokens.narrow(0, image, 1),
                                           ids, batch.mask, options.layer);
    const torch::Tensor maps = result.maps[0].to(torch::kCPU, torch::kFloat);  // [L, g, g]
    GradCam cam;
    cam.itm = torch::softmax(result.itm_logits, 1)[0][1].item<double>();
    cam.grid_rows = static_cast<int>(maps.size(1));
    cam.grid_cols = static_cast<int>(maps.size(2));
    cam.layer = static_cast<int>(result.layer);
    std::vector<int64_t> all;
    for (auto& w : words_of(*impl_->tokenizer, text, batch.ids.size(1))) {
      all.insert(all.end(), w.positions.begin(), w.positions.end());
      cam.words.push_back({w.word, mean_map(maps, w.positions)});
    }
    cam.overall = all.empty() ? std::vector<float>(static_cast<size_t>(maps[0].numel()), 0.0f)
                              : mean_map(maps, all);
    return cam;
  });
}

Result<std::vector<std::vector<float>>> BlipEngine::image_embeddings(
    const EncodedImages& images) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  if (!images.impl().embedding.defined()) {
    return Status::unsupported(impl_->info.path + " has no ITC projections: no embeddings");
  }
  return guarded<std::vector<std::vector<float>>>(
      impl_->info.path, [&] { return to_rows(images.impl().embedding); });
}

Result<std::vector<std::vector<float>>> BlipEngine::text_embeddings(
    const std::vector<std::string>& texts) const {
  if (!impl_->info.can_embed) {
    return Status::unsupported(impl_->info.path + " has no ITC projections: no embeddings");
  }
  return guarded<std::vector<std::vector<float>>>(impl_->info.path, [&] {
    torch::InferenceMode guard;
    model::Scorer scorer(impl_->model, impl_->itm_first);
    std::vector<std::vector<float>> rows;
    for (size_t begin = 0; begin < texts.size(); begin += kScoreChunk) {
      const size_t end = std::min(texts.size(), begin + static_cast<size_t>(kScoreChunk));
      std::vector<std::string> chunk(texts.begin() + static_cast<long>(begin),
                                     texts.begin() + static_cast<long>(end));
      auto part = to_rows(scorer.text_embeddings(tokenize(*impl_->tokenizer, chunk, impl_->device)));
      for (auto& r : part) rows.push_back(std::move(r));
    }
    return rows;
  });
}

namespace {
Status check_one(const EncodedImages& images, int64_t image) {
  if (image < 0 || image >= images.size()) {
    return Status::invalid("no image " + std::to_string(image) + " among " +
                           std::to_string(images.size()));
  }
  return Status::ok();
}
}  // namespace

Result<std::vector<GeneratedText>> BlipEngine::answer(const EncodedImages& images, int64_t image,
                                                      const std::string& question,
                                                      const CaptionOptions& options) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  if (Status s = check_one(images, image); !s) return s;
  if (!impl_->info.can_caption) {
    return Status::unsupported(impl_->info.path + " has no decoder: it cannot answer questions");
  }
  return guarded<std::vector<GeneratedText>>(impl_->info.path, [&] {
    torch::InferenceMode guard;
    const auto& tok = *impl_->tokenizer;
    CaptionOptions o = options;
    o.prompt.clear();
    auto generation = to_generation(o, tok);
    const auto tokens = images.impl().tokens.narrow(0, image, 1);
    if (!impl_->info.can_answer) {
      // A captioner alone: the seed's "question: ... answer:" framing on the decoder.
      const auto prompt = tok.encode("question: " + question + " answer:", false);
      return to_texts(model::answer_with_prompt_for_images(*impl_->model, tokens, prompt,
                                                           generation),
                      tok, 1)
          .front();
    }
    model::VqaOptions vqa;
    vqa.generation = generation;
    vqa.first_token = impl_->vqa_first;
    const auto q = tokenize(tok, {question}, impl_->device);
    auto out = model::answer_questions_for_images(*impl_->model, tokens, {q.ids, q.mask}, vqa);
    return to_texts(out, tok, 1).front();
  });
}

Result<std::vector<GeneratedText>> BlipEngine::rank_answers(
    const EncodedImages& images, int64_t image, const std::string& question,
    const std::vector<std::string>& candidates) const {
  if (Status s = check_images(images, impl_.get()); !s) return s;
  if (Status s = check_one(images, image); !s) return s;
  if (candidates.empty()) return Status::invalid("no candidate answers to rank");
  if (!impl_->info.can_answer) {
    return Status::unsupported(impl_->info.path +
                               " has no question encoder and answer decoder: it cannot rank answers");
  }
  return guarded<std::vector<GeneratedText>>(impl_->info.path, [&] {
    torch::InferenceMode guard;
    const auto& tok = *impl_->tokenizer;
    const auto q = tokenize(tok, {question}, impl_->device);
    auto a = tok.encode_batch(candidates);
    auto ids = torch::tensor(a.input_ids, torch::kLong).view({a.batch_size, a.seq_len});
    auto mask = torch::tensor(a.attention_mask, torch::kLong).view({a.batch_size, a.seq_len});
    model::VqaOptions vqa;
    vqa.first_token = impl_->vqa_first;
    const auto ranking = model::rank_answers_for_images(
        *impl_->model, images.impl().tokens.narrow(0, image, 1), {q.ids, q.mask}, ids, mask,
        static_cast<int64_t>(candidates.size()), vqa);
    const auto lp = ranking.log_probs[0].to(torch::kDouble);
    std::vector<GeneratedText> ranked;
    for (size_t i = 0; i < candidates.size(); ++i) {
      ranked.push_back({candidates[i], lp[static_cast<int64_t>(i)].item<double>()});
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const GeneratedText& a, const GeneratedText& b) {
                       return a.log_prob > b.log_prob;
                     });
    return ranked;
  });
}

}  // namespace capfilt::core
