#pragma once
// What the caption & VQA demo computes on one image with the chosen models, as plain calls on
// core::BlipEngine: captions (each scored by the scorer model), the ITM/ITC of a typed caption, its
// Grad-CAM, answers to a question. The image is encoded once per model and reused by every call.
//
// Not thread-safe: DemoWorker calls it from its one worker thread only. Engines are shared_ptrs so
// an engine stays alive while the session holds its encoding.

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/blip_engine.h"
#include "core/image_io.h"

namespace capfilt::ui {

using EnginePtr = std::shared_ptr<const core::BlipEngine>;

struct CaptionRow {
  std::string text;
  double log_prob = 0;        // the captioner's log-probability of the generated tokens
  double itm = std::nan("");  // the scorer's ITM / ITC; NaN without a scorer that can match
  double itc = std::nan("");
};

class DemoSession {
 public:
  // Decodes the file as core does for the model (any format core reads, EXIF orientation applied).
  Status openImage(const std::string& path);
  void setImage(core::RgbImage image);
  const core::RgbImage& image() const { return image_; }
  bool hasImage() const { return !image_.empty(); }

  // Captions by `captioner`, scored by `scorer` when it is given and has an ITM head.
  Result<std::vector<CaptionRow>> caption(const EnginePtr& captioner, const EnginePtr& scorer,
                                          const core::CaptionOptions& options);
  Result<core::PairScore> score(const EnginePtr& scorer, const std::string& text);
  Result<core::GradCam> gradcam(const EnginePtr& scorer, const std::string& text,
                                const core::GradCamOptions& options = {});
  // Generated answers (candidates empty) or the candidates ranked, best first.
  Result<std::vector<core::GeneratedText>> ask(const EnginePtr& model, const std::string& question,
                                               const std::vector<std::string>& candidates,
                                               const core::CaptionOptions& options);

 private:
  Result<const core::EncodedImages*> encoded(const EnginePtr& engine);

  core::RgbImage image_;
  std::vector<std::pair<EnginePtr, core::EncodedImages>> encodings_;  // of image_, per engine
};

// The demo's answer options: beam search (3 beams) for up to three short answers, as
// `capfilt vqa` runs it by default.
core::CaptionOptions answer_options();

}  // namespace capfilt::ui
