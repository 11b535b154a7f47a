#pragma once
// Visual question answering with BLIP, in the two forms the project supports:
//
// - The released architecture (BLIP's VQA model, Hugging Face's BlipForQuestionAnswering): the
//   image-grounded text encoder reads the question with cross-attention to the image; the answer
//   decoder cross-attends to those question states and generates the answer from [DEC], or ranks a
//   list of candidate answers by their log-likelihood.
// - The seed's framing on a captioning model: the decoder reads the image and the prompt
//   "question: ... answer:" and generates the rest.
//
// Inputs are token ids as the Tokenizer produces them. Everything runs under InferenceMode and only
// reads the model, so threads may share one. Model-internal header (includes Torch).

#include <torch/torch.h>

#include <vector>

#include "model/blip.h"
#include "model/generation.h"

namespace capfilt::model {

// First token of the question given to the image-grounded encoder.
enum class VqaFirstToken {
  kEnc,  // [ENC] replaces [CLS], as the original BLIP code does
  kCls,  // [CLS] kept, as Hugging Face's BlipForQuestionAnswering does
};

struct VqaOptions {
  GenerationOptions generation = vqa_defaults();
  VqaFirstToken first_token = VqaFirstToken::kEnc;
  // The answer decoder attends to the question's tokens only (BLIP's code). Hugging Face 4.29 lets
  // it attend to the padding after a short question as well; false reproduces that.
  bool mask_question_padding = true;
};

// Questions tokenised with [CLS] ... [SEP], padded on the right.
struct QuestionBatch {
  torch::Tensor ids;   // [B, L] int64
  torch::Tensor mask;  // [B, L], 1 = token
};

// Question states [B, L, text hidden] of the image-grounded encoder over image tokens [B, N, D].
torch::Tensor encode_questions(const BlipImpl& model, const torch::Tensor& image_embeds,
                               const QuestionBatch& questions, VqaFirstToken first_token);

// Generated answers for normalised pixels [B, 3, H, W] and one question per image. Output rows are
// [DEC] answer [SEP] [PAD]..., with prompt_length 1.
GenerationOutput answer_questions(const BlipImpl& model, const torch::Tensor& pixels,
                                  const QuestionBatch& questions, const VqaOptions& options = {});

// The same from image tokens [B, N, D] already encoded (model.encode_image), so a caller that
// captions and answers about one image runs the image encoder once.
GenerationOutput answer_questions_for_images(const BlipImpl& model,
                                             const torch::Tensor& image_embeds,
                                             const QuestionBatch& questions,
                                             const VqaOptions& options = {});

struct AnswerRanking {
  std::vector<int64_t> best;  // per question: index into the candidate list
  // [B, candidates]: log p(answer tokens incl. [SEP] | image, question); -inf for candidates not
  // among the top_k by first-token probability (they were not scored).
  torch::Tensor log_probs;
};

// Ranks candidate answers, as BLIP's rank_answer does: the top_k candidates by the probability of
// their first token are scored by their full log-likelihood. (BLIP scores them with its
// label-smoothed training loss; this uses the plain log-likelihood.)
// answers: [C, La] ids tokenised with [CLS] ... [SEP] (the first column is replaced by [DEC]).
AnswerRanking rank_answers(const BlipImpl& model, const torch::Tensor& pixels,
                           const QuestionBatch& questions, const torch::Tensor& answer_ids,
                           const torch::Tensor& answer_mask, int64_t top_k = 128,
                           const VqaOptions& options = {});

// The same from image tokens already encoded.
AnswerRanking rank_answers_for_images(const BlipImpl& model, const torch::Tensor& image_embeds,
                                      const QuestionBatch& questions,
                                      const torch::Tensor& answer_ids,
                                      const torch::Tensor& answer_mask, int64_t top_k = 128,
                                      const VqaOptions& options = {});

// The seed's framing: one image [1, 3, H, W] (or image tokens via generate_from_states) and the
// prompt ids of "question: <question> answer:" without [CLS]/[SEP]; the decoder generates the
// answer after the prompt (GenerationOutput::generated() gives it without the prompt).
GenerationOutput answer_with_prompt(const BlipImpl& model, const torch::Tensor& pixels,
                                    const std::vector<int64_t>& prompt_ids,
                                    GenerationOptions options = vqa_defaults());
// The same from image tokens already encoded.
GenerationOutput answer_with_prompt_for_images(const BlipImpl& model,
                                               const torch::Tensor& image_embeds,
                                               const std::vector<int64_t>& prompt_ids,
                                               GenerationOptions options = vqa_defaults());

}  // namespace capfilt::model
