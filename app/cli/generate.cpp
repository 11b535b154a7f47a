// `capfilt caption`, `capfilt itm`, `capfilt vqa`: try a model on one image by hand.
// `capfilt bench-generate`: captions per second of greedy, beam and nucleus decoding.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "core/blip_engine.h"
#include "model/blip.h"
#include "model/config.h"
#include "model/error.h"
#include "model/generation.h"
#include "model/runtime.h"

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
  float temperature = 1.0f;
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;
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
  cmd->add_option("--temperature", args.temperature, "nucleus sampling temperature")
      ->capture_default_str();
  cmd->add_option("--repetition-penalty", args.repetition_penalty)->capture_default_str();
  cmd->add_option("--seed", args.seed, "nucleus sampling seed")->capture_default_str();
}

model::DecodingMethod parse_method(const std::string& name) {
  if (name == "greedy") return model::DecodingMethod::kGreedy;
  if (name == "nucleus") return model::DecodingMethod::kNucleus;
  return model::DecodingMethod::kBeamSearch;
}

core::CaptionOptions to_caption_options(const SearchArgs& a, core::CaptionOptions o) {
  if (!core::parse(a.method, &o.method)) throw std::runtime_error("unknown method " + a.method);
  o.num_beams = a.beams;
  o.num_captions = a.samples;
  o.max_length = a.max_length;
  o.min_length = a.min_length;
  o.top_p = a.top_p;
  o.temperature = a.temperature;
  o.repetition_penalty = a.repetition_penalty;
  o.seed = a.seed;
  return o;
}

std::unique_ptr<core::BlipEngine> open_engine(const GlobalOptions& options, const ModelArgs& args,
                                              core::FirstToken first = core::FirstToken::kAuto) {
  apply_runtime(options);
  core::EngineOptions eo;
  eo.model_path = args.model_path;
  eo.vocab_path =
      args.vocab_path.empty() ? resource_path(options, "bert-base-uncased/vocab.txt") : args.vocab_path;
  eo.device = options.device;
  eo.first_token = first;
  return value_or_throw(core::BlipEngine::open(eo));
}

void print_texts(const std::vector<core::GeneratedText>& texts) {
  for (const auto& t : texts) std::printf("%s\t(log p %.3f)\n", t.text.c_str(), t.log_prob);
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
    auto engine = open_engine(options, *model_args);
    auto o = to_caption_options(*search, core::beam_caption_defaults());
    o.prompt = *prompt;
    auto images = value_or_throw(engine->encode_files({*image}));
    print_texts(value_or_throw(engine->caption(images, o)).front());
  });
}

void add_itm(CLI::App& app, const GlobalOptions& options) {
  auto* cmd = app.add_subcommand("itm", "Score how well a text matches an image (ITM, ITC)");
  auto model_args = std::make_shared<ModelArgs>();
  auto image = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto first = std::make_shared<std::string>("auto");
  cmd->add_option("IMAGE", *image, "image file")->required();
  cmd->add_option("TEXT", *text, "caption to score")->required();
  add_model_args(cmd, *model_args);
  cmd->add_option("--first-token", *first,
                  "ITM's first token: auto ([CLS] for Hugging Face models, else [ENC]), cls or enc")
      ->check(CLI::IsMember({"auto", "cls", "enc"}))
      ->capture_default_str();
  cmd->callback([=, &options] {
    const auto token = *first == "cls"   ? core::FirstToken::kCls
                       : *first == "enc" ? core::FirstToken::kEnc
                                         : core::FirstToken::kAuto;
    auto engine = open_engine(options, *model_args, token);
    auto images = value_or_throw(engine->encode_files({*image}));
    const auto score = value_or_throw(engine->score(images, {{0, *text}})).front();
    std::printf("itm_probability\t%.6f\n", score.itm);
    if (!std::isnan(score.itc)) std::printf("itc_similarity\t%.6f\n", score.itc);
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
  cmd->add_option("IMAGE", *image, "image file")->required();
  cmd->add_option("QUESTION", *question, "question")->required();
  add_model_args(cmd, *model_args);
  add_search_args(cmd, *search);
  cmd->add_option("--answers", *candidates, "rank these candidate answers instead of generating");
  cmd->callback([=, &options] {
    auto engine = open_engine(options, *model_args);
    auto images = value_or_throw(engine->encode_files({*image}));
    if (candidates->empty()) {
      print_texts(value_or_throw(
          engine->answer(images, 0, *question, to_caption_options(*search, {}))));
      return;
    }
    const auto ranked = value_or_throw(engine->rank_answers(images, 0, *question, *candidates));
    for (size_t i = 0; i < ranked.size(); ++i) {
      std::printf("%s%s\t(log p %.3f)\n", i == 0 ? "* " : "  ", ranked[i].text.c_str(),
                  ranked[i].log_prob);
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

model::BlipConfig bench_config(const std::string& name, int base_image_size) {
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
