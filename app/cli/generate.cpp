// `capfilt caption`, `capfilt itm`, `capfilt vqa`: try a model on one image by hand.
// `capfilt bench-generate`: captions per second of greedy, beam and nucleus decoding.

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "core/image_io.h"
#include "core/preprocess.h"
#include "model/blip.h"
#include "model/config.h"
#include "model/error.h"
#include "model/generation.h"
#include "model/hf_import.h"
#include "model/runtime.h"
#include "model/scoring.h"
#include "model/tokenizer.h"
#include "model/vqa.h"

namespace capfilt::app {
namespace {

struct ModelArgs {
  std::string model_path;
  std::string vocab_path;  // empty: the shipped bert-base-uncased vocabulary
};

struct SearchArgs {
  std::string method = "beam";
  int beams = 3;
  int samples = 1;
  int max_length = 30;
  int min_length = 10;
  float top_p = 0.9f;
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;
  bool no_cache = false;
};

void add_model_args(CLI::App* cmd, ModelArgs& args) {
  cmd->add_option("--model", args.model_path,
                  "checkpoint: a folder from `capfilt import-weights` (or a Hugging Face folder / .pth)")
      ->required();
  cmd->add_option("--vocab", args.vocab_path, "vocab.txt (default: the shipped bert-base-uncased)");
}

void add_search_args(CLI::App* cmd, SearchArgs& args) {
  cmd->add_option("--method", args.method, "beam, greedy or nucleus")
      ->check(CLI::IsMember({"beam", "greedy", "nucleus"}))
      ->capture_default_str();
  cmd->add_option("--beams", args.beams, "beams for beam search")->capture_default_str();
  cmd->add_option("--samples", args.samples, "sequences per image (nucleus samples or best beams)")
      ->capture_default_str();
  cmd->add_option("--max-length", args.max_length, "tokens incl. [DEC] and the prompt")
      ->capture_default_str();
  cmd->add_option("--min-length", args.min_length, "tokens incl. [DEC] and the prompt")
      ->capture_default_str();
  cmd->add_option("--top-p", args.top_p, "nucleus mass")->capture_default_str();
  cmd->add_option("--repetition-penalty", args.repetition_penalty)->capture_default_str();
  cmd->add_option("--seed", args.seed, "nucleus sampling seed")->capture_default_str();
  cmd->add_flag("--no-cache", args.no_cache, "recompute every position at every step");
}

model::DecodingMethod parse_method(const std::string& name) {
  if (name == "greedy") return model::DecodingMethod::kGreedy;
  if (name == "nucleus") return model::DecodingMethod::kNucleus;
  return model::DecodingMethod::kBeamSearch;
}

model::GenerationOptions to_options(const SearchArgs& a, model::GenerationOptions o) {
  o.method = parse_method(a.method);
  o.num_beams = a.beams;
  o.num_sequences = a.samples;
  o.max_length = a.max_length;
  o.min_length = a.min_length;
  o.top_p = a.top_p;
  o.repetition_penalty = a.repetition_penalty;
  o.seed = a.seed;
  o.use_cache = !a.no_cache;
  return o;
}

torch::Device to_device(const GlobalOptions& options) {
  model::DeviceSpec spec;
  std::string error;
  if (!model::parse_device(options.device, &spec, &error)) throw std::runtime_error(error);
  if (spec.kind == model::DeviceSpec::Kind::kCuda) {
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(spec.index));
  }
  return torch::Device(torch::kCPU);
}

struct Loaded {
  model::Blip model{nullptr};
  std::unique_ptr<model::Tokenizer> tokenizer;
  torch::Device device{torch::kCPU};
};

Loaded load(const GlobalOptions& options, const ModelArgs& args) {
  apply_runtime(options);
  Loaded l;
  l.device = to_device(options);
  l.model = model::load_model(args.model_path);
  l.model->eval();
  l.model->to(l.device);
  const std::string vocab =
      args.vocab_path.empty() ? resource_path(options, "bert-base-uncased/vocab.txt") : args.vocab_path;
  l.tokenizer = std::make_unique<model::Tokenizer>(model::Tokenizer::from_vocab_file(vocab));
  return l;
}

// The image decoded and preprocessed as BLIP expects: [1, 3, size, size] on the model's device.
torch::Tensor load_pixels(const std::string& path, const Loaded& l) {
  auto decoded = core::decode_image_file(path);
  if (!decoded.is_ok()) throw std::runtime_error(decoded.status().message());
  const int size = static_cast<int>(l.model->config().vision.image_size);
  std::vector<float> chw = core::preprocess_for_blip(decoded.value(), size);
  return torch::from_blob(chw.data(), {1, 3, size, size}, torch::kFloat).clone().to(l.device);
}

std::vector<int64_t> prompt_ids(const model::Tokenizer& tokenizer, const std::string& prompt) {
  return prompt.empty() ? std::vector<int64_t>{} : tokenizer.encode(prompt, false);
}

void print_sequences(const model::GenerationOutput& out, const model::Tokenizer& tokenizer) {
  for (int64_t r = 0; r < out.ids.size(0); ++r) {
    std::printf("%s\t(log p %.3f)\n", tokenizer.decode(out.generated(r)).c_str(),
                out.log_probs[r].item<float>());
  }
}

void add_caption(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand("caption", "Caption an image with a BLIP captioner");
  auto model_args = std::make_shared<ModelArgs>();
  auto search = std::make_shared<SearchArgs>();
  auto image = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>("a picture of ");
  cmd->add_option("IMAGE", *image, "image file")->required();
  add_model_args(cmd, *model_args);
  add_search_args(cmd, *search);
  cmd->add_option("--prompt", *prompt, "text the caption starts with (kept out of the output)")
      ->capture_default_str();
  cmd->callback([=, &options] {
    Loaded l = load(options, *model_args);
    auto o = to_options(*search, model::captioning_defaults());
    o.prompt_ids = prompt_ids(*l.tokenizer, *prompt);
    auto out = model::generate_captions(*l.model, load_pixels(*image, l), o);
    print_sequences(out, *l.tokenizer);
  });
}

void add_itm(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand("itm", "Score how well a text matches an image (ITM, ITC)");
  auto model_args = std::make_shared<ModelArgs>();
  auto image = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto use_cls = std::make_shared<bool>(false);
  cmd->add_option("IMAGE", *image, "image file")->required();
  cmd->add_option("TEXT", *text, "caption to score")->required();
  add_model_args(cmd, *model_args);
  cmd->add_flag("--cls", *use_cls, "keep [CLS] as the ITM first token (Hugging Face) instead of [ENC]");
  cmd->callback([=, &options] {
    Loaded l = load(options, *model_args);
    model::Scorer scorer(l.model, *use_cls ? model::ItmFirstToken::kCls : model::ItmFirstToken::kEnc);
    auto encoded = l.tokenizer->encode_batch({*text}, {true, model::Padding::kLongest, 35});
    model::TextBatch batch{
        torch::tensor(encoded.input_ids, torch::kLong).view({1, -1}).to(l.device),
        torch::tensor(encoded.attention_mask, torch::kLong).view({1, -1}).to(l.device)};
    torch::InferenceMode guard;
    auto images = scorer.encode_images(load_pixels(*image, l));
    std::printf("itm_probability\t%.6f\n", scorer.itm_probability(images, batch)[0].item<float>());
    if (images.embedding.defined()) {
      auto sim = model::Scorer::pair_similarity(images.embedding, scorer.text_embeddings(batch));
      std::printf("itc_similarity\t%.6f\n", sim[0].item<float>());
    }
  });
}

void add_vqa(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand("vqa", "Answer a question about an image");
  auto model_args = std::make_shared<ModelArgs>();
  auto search = std::make_shared<SearchArgs>();
  search->max_length = 10;
  search->min_length = 1;
  auto image = std::make_shared<std::string>();
  auto question = std::make_shared<std::string>();
  auto candidates = std::make_shared<std::vector<std::string>>();
  auto cls = std::make_shared<bool>(false);
  cmd->add_option("IMAGE", *image, "image file")->required();
  cmd->add_option("QUESTION", *question, "question")->required();
  add_model_args(cmd, *model_args);
  add_search_args(cmd, *search);
  cmd->add_option("--answers", *candidates, "rank these candidate answers instead of generating");
  cmd->add_flag("--cls", *cls, "question starts with [CLS] (Hugging Face) instead of [ENC]");
  cmd->callback([=, &options] {
    Loaded l = load(options, *model_args);
    auto pixels = load_pixels(*image, l);
    const auto& tok = *l.tokenizer;
    if (!l.model->has_text_encoder()) {
      // A captioner only: the seed's "question: ... answer:" framing on the decoder.
      auto o = to_options(*search, model::vqa_defaults());
      auto prompt = tok.encode("question: " + *question + " answer:", false);
      print_sequences(model::answer_with_prompt(*l.model, pixels, prompt, o), tok);
      return;
    }
    auto q = tok.encode_batch({*question});
    model::QuestionBatch batch{
        torch::tensor(q.input_ids, torch::kLong).view({1, -1}).to(l.device),
        torch::tensor(q.attention_mask, torch::kLong).view({1, -1}).to(l.device)};
    model::VqaOptions vo;
    vo.generation = to_options(*search, model::vqa_defaults());
    vo.first_token = *cls ? model::VqaFirstToken::kCls : model::VqaFirstToken::kEnc;
    if (candidates->empty()) {
      print_sequences(model::answer_questions(*l.model, pixels, batch, vo), tok);
      return;
    }
    auto a = tok.encode_batch(*candidates);
    auto ids = torch::tensor(a.input_ids, torch::kLong).view({a.batch_size, a.seq_len});
    auto mask = torch::tensor(a.attention_mask, torch::kLong).view({a.batch_size, a.seq_len});
    auto ranking = model::rank_answers(*l.model, pixels, batch, ids, mask, 128, vo);
    for (size_t i = 0; i < candidates->size(); ++i) {
      std::printf("%s%s\t(log p %.3f)\n", static_cast<int64_t>(i) == ranking.best[0] ? "* " : "  ",
                  (*candidates)[i].c_str(), ranking.log_probs[0][static_cast<int64_t>(i)].item<float>());
    }
  });
}

// ---- bench-generate -------------------------------------------------------------------------

struct BenchArgs {
  std::vector<std::string> configs{"tiny", "base"};
  std::vector<int> batches{1, 16};
  std::vector<std::string> methods{"greedy", "beam", "nucleus"};
  int max_length = 30;
  int repeats = 1;
  int base_image_size = 384;
  bool scaling = true;
  bool no_uncached = false;
};

// "small": the comparison config (width 256, 4 vision + 4 text layers, 224 px).
model::BlipConfig bench_config(const std::string& name, int base_image_size) {
  if (name == "small") {
    model::BlipConfig c = model::preset("base", 224);
    c.name = "small";
    c.vision.hidden = 256;
    c.vision.depth = 4;
    c.vision.heads = 4;
    c.vision.intermediate = 1024;
    c.text.hidden = 256;
    c.text.layers = 4;
    c.text.heads = 4;
    c.text.intermediate = 1024;
    return c;
  }
  return model::preset(name, name == "base" ? base_image_size : 0);
}

// Seconds per call of generate_captions (after one warm-up call), captions forced to full length.
double time_captions(const model::BlipImpl& m, const torch::Tensor& pixels,
                     model::GenerationOptions o, int repeats) {
  model::generate_captions(m, pixels, o);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) model::generate_captions(m, pixels, o);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

model::GenerationOptions bench_options(const std::string& method, int length, bool cache) {
  model::GenerationOptions o;
  o.method = parse_method(method);
  o.num_beams = 3;
  o.max_length = length;
  o.min_length = length;  // random weights: every caption runs to max_length
  o.use_cache = cache;
  return o;
}

void run_bench(const GlobalOptions& options, const BenchArgs& a) {
  apply_runtime(options);
  const auto info = model::runtime_info();
  std::printf("# LibTorch %s, BLAS %s, %d intra-op threads; random weights; max length %d "
              "(every caption forced to full length); time includes the image encoder\n",
              info.torch_version.c_str(), info.blas_name.c_str(), info.intra_op_threads,
              a.max_length);
  torch::manual_seed(0);
  for (const auto& name : a.configs) {
    model::BlipConfig config = bench_config(name, a.base_image_size);
    model::Blip m(config);
    m->eval();
    const int64_t size = config.vision.image_size;
    std::printf("\n## %s (vision %lldx%lld px, width %lld, %lld+%lld layers)\n", name.c_str(),
                static_cast<long long>(size), static_cast<long long>(size),
                static_cast<long long>(config.text.hidden),
                static_cast<long long>(config.vision.depth),
                static_cast<long long>(config.text.layers));
    std::printf("%-8s %5s %-8s %12s %12s %8s\n", "method", "batch", "cache", "s/call",
                "captions/s", "speedup");
    for (int batch : a.batches) {
      auto pixels = torch::randn({batch, 3, size, size});
      for (const auto& method : a.methods) {
        const double cached = time_captions(*m, pixels, bench_options(method, a.max_length, true),
                                            a.repeats);
        std::printf("%-8s %5d %-8s %12.3f %12.3f\n", method.c_str(), batch, "cache", cached,
                    batch / cached);
        std::fflush(stdout);
        if (a.no_uncached) continue;
        const double uncached = time_captions(
            *m, pixels, bench_options(method, a.max_length, false), a.repeats);
        std::printf("%-8s %5d %-8s %12.3f %12.3f %7.2fx\n", method.c_str(), batch, "no-cache",
                    uncached, batch / uncached, uncached / cached);
        std::fflush(stdout);
      }
    }
    if (!a.scaling) continue;
    std::printf("time per caption vs max length (greedy, batch 1):\n%8s %14s %14s\n", "length",
                "cache s", "no-cache s");
    auto pixels = torch::randn({1, 3, size, size});
    for (int length : {10, 20, 30, 40}) {
      const double c = time_captions(*m, pixels, bench_options("greedy", length, true), a.repeats);
      const double u = time_captions(*m, pixels, bench_options("greedy", length, false), a.repeats);
      std::printf("%8d %14.4f %14.4f\n", length, c, u);
      std::fflush(stdout);
    }
  }
}

void add_bench(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand("bench-generate",
                                 "Captions per second (greedy, beam 3, nucleus; with/without cache)");
  auto a = std::make_shared<BenchArgs>();
  cmd->add_option("--configs", a->configs, "presets: tiny, small, base, large")
      ->capture_default_str();
  cmd->add_option("--batches", a->batches, "batch sizes")->capture_default_str();
  cmd->add_option("--methods", a->methods, "greedy, beam, nucleus")->capture_default_str();
  cmd->add_option("--max-length", a->max_length)->capture_default_str();
  cmd->add_option("--repeats", a->repeats, "timed calls per figure")->capture_default_str();
  cmd->add_option("--base-image-size", a->base_image_size)->capture_default_str();
  cmd->add_flag("!--no-scaling", a->scaling, "skip the max-length 10..40 series");
  cmd->add_flag("--no-uncached", a->no_uncached, "skip the runs without the cache");
  cmd->callback([a, &options] { run_bench(options, *a); });
}

}  // namespace

void add_generate_commands(CLI::App& app, const GlobalOptions& options) {
  add_caption(app, options);
  add_itm(app, options);
  add_vqa(app, options);
  add_bench(app, options);
}

}  // namespace capfilt::app
