#include "ui/demo/demo_session.h"

namespace capfilt::ui {

Status DemoSession::openImage(const std::string& path) {
  auto image = core::decode_image_file(path);
  if (!image) return image.status();
  setImage(std::move(image).value());
  return Status::ok();
}

void DemoSession::setImage(core::RgbImage image) {
  image_ = std::move(image);
  encodings_.clear();
}

Result<const core::EncodedImages*> DemoSession::encoded(const EnginePtr& engine) {
  if (!engine) return Status::invalid("no model is open");
  if (image_.empty()) return Status::invalid("no image: open one first");
  for (const auto& [owner, images] : encodings_) {
    if (owner == engine) return &images;
  }
  auto images = engine->encode_images({image_});
  if (!images) return images.status();
  encodings_.emplace_back(engine, std::move(images).value());
  return &encodings_.back().second;
}

Result<std::vector<CaptionRow>> DemoSession::caption(const EnginePtr& captioner,
                                                     const EnginePtr& scorer,
                                                     const core::CaptionOptions& options) {
  auto images = encoded(captioner);
  if (!images) return images.status();
  auto captions = captioner->caption(**images, options);
  if (!captions) return captions.status();
  std::vector<CaptionRow> rows;
  for (const auto& c : captions->front()) rows.push_back({c.text, c.log_prob});
  if (!scorer || !scorer->info().can_match || rows.empty()) return rows;
  auto scored = encoded(scorer);
  if (!scored) return scored.status();
  std::vector<core::ImageText> pairs;
  for (const auto& r : rows) pairs.push_back({0, r.text});
  auto scores = scorer->score(**scored, pairs);
  if (!scores) return scores.status();
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].itm = (*scores)[i].itm;
    rows[i].itc = (*scores)[i].itc;
  }
  return rows;
}

Result<core::PairScore> DemoSession::score(const EnginePtr& scorer, const std::string& text) {
  auto images = encoded(scorer);
  if (!images) return images.status();
  auto scores = scorer->score(**images, {{0, text}});
  if (!scores) return scores.status();
  return scores->front();
}

Result<core::GradCam> DemoSession::gradcam(const EnginePtr& scorer, const std::string& text,
                                           const core::GradCamOptions& options) {
  auto images = encoded(scorer);
  if (!images) return images.status();
  return scorer->itm_gradcam(**images, 0, text, options);
}

Result<std::vector<core::GeneratedText>> DemoSession::ask(
    const EnginePtr& model, const std::string& question, const std::vector<std::string>& candidates,
    const core::CaptionOptions& options) {
  auto images = encoded(model);
  if (!images) return images.status();
  if (candidates.empty()) return model->answer(**images, 0, question, options);
  return model->rank_answers(**images, 0, question, candidates);
}

core::CaptionOptions answer_options() {
  core::CaptionOptions o;
  o.method = core::CaptionMethod::kBeamSearch;
  o.num_beams = 3;
  o.num_captions = 3;
  o.max_length = 10;
  o.min_length = 1;
  return o;
}

}  // namespace capfilt::ui
