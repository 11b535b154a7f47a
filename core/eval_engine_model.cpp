// BlipEngine as the EvalModel the evaluations use (core/evaluation.h). Torch-free: it only calls
// the facade.

#include "core/evaluation.h"

namespace capfilt::core {
namespace {

class EngineEvalModel final : public EvalModel {
 public:
  EngineEvalModel(const BlipEngine& engine, CaptionOptions caption, CaptionOptions answer,
                  std::vector<std::string> candidates)
      : engine_(engine),
        caption_(std::move(caption)),
        answer_(std::move(answer)),
        candidates_(std::move(candidates)) {}

  Result<std::vector<std::vector<float>>> image_embeddings(
      const std::vector<std::string>& images) const override {
    auto encoded = engine_.encode_files(images);
    if (!encoded) return encoded.status();
    return engine_.image_embeddings(encoded.value());
  }

  Result<std::vector<std::vector<float>>> text_embeddings(
      const std::vector<std::string>& texts) const override {
    return engine_.text_embeddings(texts);
  }

  Result<std::vector<double>> match(const std::vector<std::string>& images,
                                    const std::vector<ImageText>& pairs) const override {
    auto encoded = engine_.encode_files(images);
    if (!encoded) return encoded.status();
    auto scores = engine_.score(encoded.value(), pairs);
    if (!scores) return scores.status();
    std::vector<double> itm;
    itm.reserve(scores->size());
    for (const PairScore& s : scores.value()) itm.push_back(s.itm);
    return itm;
  }

  Result<std::vector<std::string>> caption(const std::vector<std::string>& images) const override {
    auto encoded = engine_.encode_files(images);
    if (!encoded) return encoded.status();
    auto captions = engine_.caption(encoded.value(), caption_);
    if (!captions) return captions.status();
    std::vector<std::string> out;
    for (const auto& per_image : captions.value()) {
      out.push_back(per_image.empty() ? std::string() : per_image.front().text);
    }
    return out;
  }

  Result<std::vector<std::string>> answer(
      const std::string& image, const std::vector<std::string>& questions) const override {
    auto encoded = engine_.encode_files({image});
    if (!encoded) return encoded.status();
    std::vector<std::string> out;
    for (const std::string& q : questions) {
      auto answers = candidates_.empty() ? engine_.answer(encoded.value(), 0, q, answer_)
                                         : engine_.rank_answers(encoded.value(), 0, q, candidates_);
      if (!answers) return answers.status();
      out.push_back(answers->empty() ? std::string() : answers->front().text);
    }
    return out;
  }

 private:
  const BlipEngine& engine_;
  CaptionOptions caption_;
  CaptionOptions answer_;
  std::vector<std::string> candidates_;
};

}  // namespace

std::unique_ptr<EvalModel> engine_eval_model(const BlipEngine& engine,
                                             const CaptionOptions& caption_options,
                                             const CaptionOptions& answer_options,
                                             std::vector<std::string> answer_candidates) {
  return std::make_unique<EngineEvalModel>(engine, caption_options, answer_options,
                                           std::move(answer_candidates));
}

}  // namespace capfilt::core
