#include "model/vqa.h"

#include <limits>
#include <string>

#include "model/error.h"

namespace capfilt::model {
namespace {

void check_questions(const QuestionBatch& q, int64_t images) {
  if (!q.ids.defined() || q.ids.dim() != 2 || q.ids.size(0) != images) {
    throw ModelError("vqa: expected one question per image ([" + std::to_string(images) +
                     ", L] ids)");
  }
  if (q.mask.defined() && q.mask.sizes() != q.ids.sizes()) {
    throw ModelError("vqa: question mask and ids differ in shape");
  }
}

torch::Tensor decoder_mask(const QuestionBatch& q, const VqaOptions& options) {
  return options.mask_question_padding ? q.mask : torch::Tensor();
}

}  // namespace

torch::Tensor encode_questions(const BlipImpl& model, const torch::Tensor& image_embeds,
                               const QuestionBatch& questions, VqaFirstToken first_token) {
  torch::InferenceMode guard;
  check_questions(questions, image_embeds.size(0));
  const auto& special = model.config().text.tokens;
  auto ids = first_token == VqaFirstToken::kEnc ? with_first_token(questions.ids, special.enc)
                                                : questions.ids;
  return model.text_hidden(TextMode::kImageGrounded, ids.to(image_embeds.device()),
                           questions.mask.defined() ? questions.mask.to(image_embeds.device())
                                                    : questions.mask,
                           image_embeds);
}

GenerationOutput answer_questions(const BlipImpl& model, const torch::Tensor& pixels,
                                  const QuestionBatch& questions, const VqaOptions& options) {
  torch::InferenceMode guard;
  validate(options.generation);
  check_questions(questions, pixels.size(0));
  return answer_questions_for_images(model, model.encode_image(pixels), questions, options);
}

GenerationOutput answer_questions_for_images(const BlipImpl& model,
                                             const torch::Tensor& image_embeds,
                                             const QuestionBatch& questions,
                                             const VqaOptions& options) {
  torch::InferenceMode guard;
  validate(options.generation);
  check_questions(questions, image_embeds.size(0));
  auto states = encode_questions(model, image_embeds, questions, options.first_token);
  auto mask = decoder_mask(questions, options);
  return generate_from_states(model, states, mask.defined() ? mask.to(states.device()) : mask,
                              options.generation);
}

AnswerRanking rank_answers(const BlipImpl& model, const torch::Tensor& pixels,
                           const QuestionBatch& questions, const torch::Tensor& answer_ids,
                           const torch::Tensor& answer_mask, int64_t top_k,
                           const VqaOptions& options) {
  torch::InferenceMode guard;
  check_questions(questions, pixels.size(0));
  return rank_answers_for_images(model, model.encode_image(pixels), questions, answer_ids,
                                 answer_mask, top_k, options);
}

AnswerRanking rank_answers_for_images(const BlipImpl& model, const torch::Tensor& image_embeds,
                                      const QuestionBatch& questions,
                                      const torch::Tensor& answer_ids,
                                      const torch::Tensor& answer_mask, int64_t top_k,
                                      const VqaOptions& options) {
  torch::InferenceMode guard;
  if (!answer_ids.defined() || answer_ids.dim() != 2 || answer_ids.size(0) < 1 ||
      answer_ids.size(1) < 2) {
    throw ModelError("vqa: candidate answers must be [count >= 1, length >= 2] ids");
  }
  if (top_k < 1) throw ModelError("vqa: top_k must be at least 1");
  check_questions(questions, image_embeds.size(0));
  const auto& special = model.config().text.tokens;
  const auto device = image_embeds.device();
  auto states = encode_questions(model, image_embeds, questions, options.first_token);
  auto mask = decoder_mask(questions, options);
  if (mask.defined()) mask = mask.to(device);
  const int64_t batch = states.size(0);
  const int64_t candidates = answer_ids.size(0);
  auto answers = with_first_token(answer_ids, special.dec).to(device);
  auto answers_mask = answer_mask.defined() ? answer_mask.to(device) : torch::ones_like(answers);

  // Shortlist by the probability of each candidate's first token after [DEC].
  DecoderState state = model.start_decoding(states, mask);
  auto first_logits = model.decode_step(torch::full({batch, 1}, special.dec, answers.options()), state);
  auto first = torch::log_softmax(first_logits.to(torch::kFloat), -1).index_select(1, answers.select(1, 1));
  const int64_t k = std::min(top_k, candidates);
  auto shortlist = std::get<1>(first.topk(k, 1));  // [batch, k]

  // Full log-likelihood of the shortlisted answers (teacher forcing).
  auto flat = shortlist.reshape({-1});
  auto ids = answers.index_select(0, flat);
  auto ids_mask = answers_mask.index_select(0, flat);
  auto rows = torch::arange(batch, torch::TensorOptions().dtype(torch::kLong).device(device))
                  .repeat_interleave(k);
  auto logits = model.text_decoder->forward(ids, ids_mask, states.index_select(0, rows),
                                            mask.defined() ? mask.index_select(0, rows) : mask);
  auto log_probs = torch::log_softmax(logits.slice(1, 0, -1).to(torch::kFloat), -1);
  auto targets = ids.slice(1, 1).unsqueeze(2);
  auto token_lp = log_probs.gather(2, targets).squeeze(2) * ids_mask.slice(1, 1).to(torch::kFloat);
  auto scores = token_lp.sum(1).view({batch, k});

  AnswerRanking out;
  out.log_probs = torch::full({batch, candidates}, -std::numeric_limits<float>::infinity())
                      .scatter(1, shortlist.cpu(), scores.cpu());
  auto best = out.log_probs.argmax(1);
  for (int64_t b = 0; b < batch; ++b) out.best.push_back(best[b].item<int64_t>());
  return out;
}

namespace {
// The lengths of vqa_defaults() are meant for the answer: the prompt comes on top of them.
GenerationOptions with_prompt(GenerationOptions options, const std::vector<int64_t>& prompt_ids) {
  const int prompt = static_cast<int>(prompt_ids.size());
  options.prompt_ids = prompt_ids;
  options.max_length += prompt;
  options.min_length += prompt;
  return options;
}
}  // namespace

GenerationOutput answer_with_prompt(const BlipImpl& model, const torch::Tensor& pixels,
                                    const std::vector<int64_t>& prompt_ids,
                                    GenerationOptions options) {
  return generate_captions(model, pixels, with_prompt(std::move(options), prompt_ids));
}

GenerationOutput answer_with_prompt_for_images(const BlipImpl& model,
                                               const torch::Tensor& image_embeds,
                                               const std::vector<int64_t>& prompt_ids,
                                               GenerationOptions options) {
  return generate_from_states(model, image_embeds, {},
                              with_prompt(std::move(options), prompt_ids));
}

}  // namespace capfilt::model
