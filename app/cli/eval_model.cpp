// `capfilt eval retrieval|caption|vqa`: a model (through the BlipEngine facade) on labelled
// images or questions; results printed, written as JSON and stored with the model in a project.

#include <iostream>
#include <set>
#include <stdexcept>

#include "app/cli/eval_common.h"
#include "core/blip_engine.h"
#include "core/evaluation.h"
#include "core/model_registry.h"

namespace capfilt::app {
namespace {

struct ModelEvalArgs {
  std::string model_path, vocab_path;
  std::string annotations;              // BLIP/COCO-style annotation file (wins over --project)
  std::string project, split = "test";  // or a project split
  std::string images;                   // dataset root of the project's image paths
  std::vector<std::string> sources;     // caption sources of the project split
  int64_t model_id = 0;                 // the model's row in the project (0: by path)
  int batch = 16;
  EvalOutputArgs output;
};

void add_common_args(CLI::App* cmd, ModelEvalArgs& a, bool data) {
  cmd->add_option("--model", a.model_path,
                  "checkpoint folder (capfilt or Hugging Face) or Salesforce .pth")
      ->required();
  cmd->add_option("--vocab", a.vocab_path, "vocab.txt (default: the shipped bert-base-uncased)");
  cmd->add_option("--project", a.project,
                  data ? "take the images and captions of --split from this project (and store "
                         "the result with the model there)"
                       : "store the result with the model in this project");
  cmd->add_option("--model-id", a.model_id,
                  "the model's id in the project (default: the row with this checkpoint path, "
                  "added when there is none)");
  cmd->add_option("--batch", a.batch, "images per model call")->capture_default_str();
  if (data) {
    cmd->add_option("--annotations", a.annotations,
                    "annotation file [{\"image\", \"caption\": [references]}] (the demo data's "
                    "test.json)");
    cmd->add_option("--split", a.split, "project split to evaluate on")->capture_default_str();
    cmd->add_option("--images", a.images,
                    "folder the project's image paths are relative to (default: the dataset "
                    "roots its imports recorded)");
    cmd->add_option("--source", a.sources, "caption sources of the project split (default: all)")
        ->delimiter(',');
  }
  add_eval_output_args(cmd, a.output);
}

std::unique_ptr<core::BlipEngine> open_engine(const GlobalOptions& options,
                                              const ModelEvalArgs& a) {
  apply_runtime(options);
  core::EngineOptions o;
  o.model_path = a.model_path;
  o.vocab_path =
      a.vocab_path.empty() ? resource_path(options, "bert-base-uncased/vocab.txt") : a.vocab_path;
  o.device = options.device;
  auto engine = core::BlipEngine::open(o);
  if (!engine) throw std::runtime_error(engine.status().message());
  return std::move(engine).value();
}

// The model's row in the project: the given id, else the row of this checkpoint (added when the
// project does not know it yet), so every evaluation of one checkpoint lands in one place.
int64_t model_row(db::Project& project, const ModelEvalArgs& a, const core::ModelInfo& info) {
  if (a.model_id > 0) {
    auto m = project.model(a.model_id);
    if (!m) throw std::runtime_error(m.status().message());
    return a.model_id;
  }
  auto id = core::register_model(project, info, info.kind);
  if (!id) throw std::runtime_error(id.status().message());
  return id.value();
}

std::vector<core::LabelledImage> labelled_images(const ModelEvalArgs& a, db::Project* project) {
  if (a.annotations.empty() && project == nullptr) {
    throw std::runtime_error("give --annotations FILE or --project P (with --split)");
  }
  if (!a.annotations.empty()) {
    auto data = core::read_labelled_images(a.annotations);
    if (!data) throw std::runtime_error(data.status().message());
    return std::move(data).value();
  }
  std::vector<db::CaptionSource> sources;
  for (const auto& name : a.sources) {
    db::CaptionSource s;
    if (!db::parse(name, &s)) throw std::runtime_error("--source: unknown source \"" + name + "\"");
    sources.push_back(s);
  }
  auto data = core::project_labelled_images(*project, a.split, a.images, sources);
  if (!data) throw std::runtime_error(data.status().message());
  return std::move(data).value();
}

// Opens the project named by --project (the data source, or only where results are stored).
std::unique_ptr<db::Project> maybe_project(const ModelEvalArgs& a) {
  return a.project.empty() ? nullptr : open_existing_project(a.project);
}

void store_and_print(const std::string& key, const std::string& json, const std::string& text,
                     const ModelEvalArgs& a, db::Project* project, const core::BlipEngine& engine) {
  const int64_t id = project && !a.output.no_store ? model_row(*project, a, engine.info()) : 0;
  finish_eval(key, json, text, a.output, project, id);
}

void add_retrieval_command(CLI::App* eval, const GlobalOptions& options) {
  auto a = std::make_shared<ModelEvalArgs>();
  auto k = std::make_shared<int>(128);
  auto* cmd = eval->add_subcommand(
      "retrieval",
      "Image->text and text->image R@1/5/10: ITC alone and ITC top-k re-ranked by ITM");
  add_common_args(cmd, *a, true);
  cmd->add_option("--k", *k, "candidates re-ranked by ITM (BLIP's COCO setting: 128)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([a, k, &options] {
    auto project = maybe_project(*a);
    const auto data = labelled_images(*a, project.get());
    auto engine = open_engine(options, *a);
    const auto model = core::engine_eval_model(*engine, core::beam_caption_defaults(),
                                               core::beam_caption_defaults());
    EvalProgress progress("eval-retrieval", "images+pairs", a->output.json);
    progress.start(static_cast<int64_t>(data.size()));
    core::EvalRunOptions run;
    run.batch_size = a->batch;
    run.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    auto result = core::evaluate_retrieval(*model, data, *k, run);
    if (!result) throw std::runtime_error(result.status().message());
    store_and_print("eval_retrieval", core::to_json(result.value()), core::to_text(result.value()),
                    *a, project.get(), *engine);
  });
}

struct DecodeArgs {
  std::string method = "beam";
  int beams = 3, max_length = 20, min_length = 5;
  float top_p = 0.9f;
  uint64_t seed = 0;
  std::string prompt = "a picture of ";
};

void add_caption_command(CLI::App* eval, const GlobalOptions& options) {
  auto a = std::make_shared<ModelEvalArgs>();
  auto d = std::make_shared<DecodeArgs>();
  auto* cmd = eval->add_subcommand("caption",
                                   "Caption each image; BLEU-4 and CIDEr-D against its references");
  add_common_args(cmd, *a, true);
  cmd->add_option("--method", d->method, "beam, greedy or nucleus")
      ->check(CLI::IsMember({"beam", "greedy", "nucleus"}))
      ->capture_default_str();
  cmd->add_option("--beams", d->beams)->capture_default_str();
  cmd->add_option("--max-length", d->max_length, "tokens incl. [DEC] and the prompt (BLIP: 20)")
      ->capture_default_str();
  cmd->add_option("--min-length", d->min_length, "(BLIP: 5)")->capture_default_str();
  cmd->add_option("--top-p", d->top_p, "nucleus mass")->capture_default_str();
  cmd->add_option("--seed", d->seed, "nucleus sampling seed")->capture_default_str();
  cmd->add_option("--prompt", d->prompt)->capture_default_str();
  cmd->callback([a, d, &options] {
    auto project = maybe_project(*a);
    const auto data = labelled_images(*a, project.get());
    auto engine = open_engine(options, *a);
    core::CaptionOptions o = core::beam_caption_defaults();
    if (!core::parse(d->method, &o.method))
      throw std::runtime_error("--method: beam, greedy or nucleus");
    o.num_beams = d->beams;
    o.num_captions = 1;
    o.max_length = d->max_length;
    o.min_length = d->min_length;
    o.top_p = d->top_p;
    o.seed = d->seed;
    o.prompt = d->prompt;
    const auto model = core::engine_eval_model(*engine, o, o);
    EvalProgress progress("eval-caption", "images", a->output.json);
    progress.start(static_cast<int64_t>(data.size()));
    core::EvalRunOptions run;
    run.batch_size = a->batch;
    run.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    auto result = core::evaluate_captions(*model, data, run);
    if (!result) throw std::runtime_error(result.status().message());
    store_and_print("eval_caption", core::to_json(result.value()), core::to_text(result.value()),
                    *a, project.get(), *engine);
  });
}

void add_vqa_command(CLI::App* eval, const GlobalOptions& options) {
  auto a = std::make_shared<ModelEvalArgs>();
  auto questions = std::make_shared<std::string>();
  auto rank = std::make_shared<bool>(false);
  auto* cmd =
      eval->add_subcommand("vqa", "Answer each question; VQA accuracy (overall and per kind)");
  add_common_args(cmd, *a, false);
  cmd->add_option("--questions", *questions,
                  "[{\"question_id\", \"image\", \"question\", \"answer\": [..]}] (the demo data's "
                  "vqa_test.json)")
      ->required();
  cmd->add_flag("--rank", *rank,
                "rank the answers that occur in the file instead of generating (BLIP's VQA "
                "evaluation ranks a fixed answer list)");
  cmd->callback([a, questions, rank, &options] {
    auto project = maybe_project(*a);
    auto qs = core::read_vqa_questions(*questions);
    if (!qs) throw std::runtime_error(qs.status().message());
    auto engine = open_engine(options, *a);
    // BLIP's VQA generation: beam search, 3 beams, at most 10 tokens.
    core::CaptionOptions o = core::beam_caption_defaults();
    o.num_captions = 1;
    o.max_length = 10;
    o.min_length = 1;
    std::vector<std::string> candidates;
    if (*rank) {
      std::set<std::string> unique;
      for (const auto& q : qs.value()) unique.insert(q.answers.begin(), q.answers.end());
      candidates.assign(unique.begin(), unique.end());
    }
    const auto model = core::engine_eval_model(*engine, o, o, candidates);
    EvalProgress progress("eval-vqa", "questions", a->output.json);
    progress.start(static_cast<int64_t>(qs->size()));
    core::EvalRunOptions run;
    run.batch_size = a->batch;
    run.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    auto result = core::evaluate_vqa(*model, qs.value(), run);
    if (!result) throw std::runtime_error(result.status().message());
    store_and_print("eval_vqa", core::to_json(result.value()), core::to_text(result.value()), *a,
                    project.get(), *engine);
  });
}

}  // namespace

void add_eval_model_commands(CLI::App* eval, const GlobalOptions& options) {
  add_retrieval_command(eval, options);
  add_caption_command(eval, options);
  add_vqa_command(eval, options);
}

}  // namespace capfilt::app
