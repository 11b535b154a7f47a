#include "app/studio/engine_scorer.h"

#include <memory>
#include <mutex>

#include "core/blip_engine.h"

namespace capfilt::app {
namespace {

struct LazyEngine {
  core::EngineOptions options;
  std::once_flag once;
  std::unique_ptr<core::BlipEngine> engine;
  Status load_error;

  const core::BlipEngine* get(Status* error) {
    std::call_once(once, [this] {
      auto opened = core::BlipEngine::open(options);
      if (opened) {
        engine = std::move(opened).value();
      } else {
        load_error = opened.status();
      }
    });
    *error = load_error;
    return engine.get();
  }
};

}  // namespace

ui::CaptionScorer::ScoreFn engine_scorer(const std::string& model_path, const std::string& vocab_path) {
  auto lazy = std::make_shared<LazyEngine>();
  lazy->options.model_path = model_path;
  lazy->options.vocab_path = vocab_path;
  lazy->options.device = "cpu";  // the GPU, if any, belongs to jobs
  return [lazy](const std::string& image_file,
                const std::string& text) -> Result<std::pair<double, double>> {
    Status error;
    const core::BlipEngine* engine = lazy->get(&error);
    if (!engine) return error;
    auto images = engine->encode_files({image_file});
    if (!images) return images.status();
    auto scores = engine->score(images.value(), {{0, text}});
    if (!scores) return scores.status();
    return std::make_pair(scores->front().itm, scores->front().itc);
  };
}

}  // namespace capfilt::app
