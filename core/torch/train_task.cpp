#include "core/torch/train_task.h"

#include <algorithm>
#include <map>

#include "core/random_util.h"
#include "core/text_negatives.h"
#include "model/vqa_trainer.h"

namespace capfilt::core {
namespace {

torch::Tensor stack_pixels(const std::vector<const std::vector<float>*>& pixels, int size) {
  const int64_t n = static_cast<int64_t>(pixels.size());
  torch::Tensor out = torch::empty({n, 3, size, size});
  for (int64_t i = 0; i < n; ++i) {
    std::copy(pixels[i]->begin(), pixels[i]->end(), out[i].data_ptr<float>());
  }
  return out;
}

void tokenize(const std::vector<std::string>& texts, const model::Tokenizer& tokenizer,
              int64_t max_length, torch::Tensor* ids, torch::Tensor* mask) {
  model::BatchEncodeOptions o;
  o.max_length = max_length;
  const model::BatchEncoding e = tokenizer.encode_batch(texts, o);
  *ids = torch::tensor(e.input_ids, torch::kLong).view({e.batch_size, e.seq_len});
  *mask = torch::tensor(e.attention_mask, torch::kLong).view({e.batch_size, e.seq_len});
}

class CaptionTaskTrainer : public TaskTrainer {
 public:
  CaptionTaskTrainer(const model::Blip& blip, const TaskSettings& s, const model::LossTerms& terms)
      : settings_(s), trainer_(blip, options(s, terms)) {}

  model::StepResult step(const std::vector<TrainPair>& items,
                         const std::vector<const std::vector<float>*>& pixels, int image_size,
                         const model::Tokenizer& tokenizer) override {
    model::PretrainBatch b;
    b.pixels = stack_pixels(pixels, image_size);
    std::vector<std::string> texts;
    std::vector<int64_t> keys;
    for (const TrainPair& p : items) {
      texts.push_back(settings_.prompt + p.text);
      keys.push_back(p.image_key);
    }
    const int64_t max_length = settings_.max_text_length + settings_.prompt_length - 1;
    tokenize(texts, tokenizer, max_length, &b.ids, &b.mask);
    if (settings_.text_negatives) {
      tokenize(text_negatives(items), tokenizer, max_length, &b.negative_ids, &b.negative_mask);
    }
    b.image_ids = torch::tensor(keys, torch::kLong);
    b.prompt_length = settings_.prompt_length;
    return trainer_.step(b);
  }
  model::NamedTensors state() const override { return trainer_.training_state(); }
  void load_state(const model::NamedTensors& state, const std::string& source) override {
    trainer_.load_training_state(state, source);
  }
  const model::Blip& model() const override { return trainer_.model(); }

 private:
  static model::PretrainOptions options(const TaskSettings& s, const model::LossTerms& terms) {
    model::PretrainOptions o;
    o.optimizer = s.optimizer;
    o.seed = s.seed;
    o.terms = terms;
    o.min_temperature = s.min_temperature;
    o.comm = s.comm;
    return o;
  }
  // One rewrite per pair, drawn from the seed and the step, so a resumed job draws the same ones.
  std::vector<std::string> text_negatives(const std::vector<TrainPair>& items) const {
    std::mt19937 rng(derive_seed(settings_.seed ^ kTextNegativeStream,
                                 static_cast<uint64_t>(trainer_.steps_taken())));
    std::vector<std::string> captions;
    for (const TrainPair& p : items) captions.push_back(p.text);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::vector<std::string> same_image;
      for (const TrainPair& p : items) {
        if (p.image_key == items[i].image_key) same_image.push_back(p.text);
      }
      out.push_back(text_negative(captions, i, same_image, rng));
    }
    return out;
  }
  static constexpr uint64_t kTextNegativeStream = 0x6e656761746976ull;  // "negativ"

  TaskSettings settings_;
  model::Pretrainer trainer_;
};

class VqaTaskTrainer : public TaskTrainer {
 public:
  VqaTaskTrainer(const model::Blip& blip, const TaskSettings& s)
      : settings_(s), trainer_(blip, s.optimizer) {}

  model::StepResult step(const std::vector<TrainPair>& items,
                         const std::vector<const std::vector<float>*>& pixels, int image_size,
                         const model::Tokenizer& tokenizer) override {
    model::VqaBatch b;
    b.pixels = stack_pixels(pixels, image_size);
    std::vector<std::string> questions, answers;
    std::vector<int64_t> owner;
    std::vector<float> weight;
    for (size_t q = 0; q < items.size(); ++q) {
      questions.push_back(items[q].text);
      std::map<std::string, int> counts;  // BLIP: each distinct answer weighted by its share
      for (const std::string& a : items[q].answers) ++counts[a];
      for (const auto& [a, n] : counts) {
        answers.push_back(a);
        owner.push_back(static_cast<int64_t>(q));
        weight.push_back(static_cast<float>(n) / items[q].answers.size());
      }
    }
    tokenize(questions, tokenizer, settings_.max_text_length, &b.question_ids, &b.question_mask);
    tokenize(answers, tokenizer, settings_.max_text_length, &b.answer_ids, &b.answer_mask);
    b.answer_owner = torch::tensor(owner, torch::kLong);
    b.answer_weight = torch::tensor(weight, torch::kFloat);
    return trainer_.step(b);
  }
  model::NamedTensors state() const override { return trainer_.training_state(); }
  void load_state(const model::NamedTensors& state, const std::string& source) override {
    trainer_.load_training_state(state, source);
  }
  const model::Blip& model() const override { return trainer_.model(); }

 private:
  TaskSettings settings_;
  model::VqaTrainer trainer_;
};

}  // namespace

const model::LossTerms& task_terms(TrainTask task) {
  static const model::LossTerms kAll{true, true, true};
  static const model::LossTerms kLm{false, false, true};
  static const model::LossTerms kFilter{true, true, false};
  switch (task) {
    case TrainTask::kPretrain: return kAll;
    case TrainTask::kCaptioner: return kLm;
    case TrainTask::kFilter: return kFilter;
    case TrainTask::kVqa: return kLm;
  }
  return kAll;
}

TaskSettings task_settings(const TrainJobConfig& c, int64_t total_steps,
                           const model::Tokenizer& tokenizer) {
  TaskSettings s;
  model::OptimizerConfig& o = s.optimizer;
  o.peak_lr = c.lr;
  o.warmup_start_lr = c.warmup_lr;
  o.warmup_steps = c.warmup_steps;
  o.total_steps = std::max<int64_t>(1, total_steps);
  o.min_lr = c.schedule == "constant" ? c.lr : c.min_lr;
  o.weight_decay = c.weight_decay;
  o.clip_norm = c.clip_norm;
  s.seed = c.seed;
  s.text_negatives = c.text_negatives;
  s.min_temperature = c.min_temperature;
  s.max_text_length =
      c.max_text_length > 0 ? c.max_text_length : (c.task == TrainTask::kPretrain ? 35 : 30);
  if (c.task == TrainTask::kCaptioner) {
    s.prompt = c.prompt;
    // BLIP: prompt_length = len(tokenizer(prompt).input_ids) - 1, i.e. [DEC] + the prompt's tokens.
    s.prompt_length = static_cast<int64_t>(tokenizer.encode(c.prompt, true).size()) - 1;
  }
  return s;
}

model::Blip adapt_model_for_task(const model::Blip& m, TrainTask task, int64_t queue_size) {
  model::Blip out = m;
  if (queue_size > 0 && queue_size != out->config().queue_size) {
    model::BlipConfig c = out->config();
    c.queue_size = queue_size;
    model::Blip resized(c);
    model::load_state_dict_strict(*resized, model::state_dict(*out), "model");
    out = resized;
  }
  if (task == TrainTask::kVqa) out = model::with_separate_decoder(out);
  return out;
}

std::unique_ptr<TaskTrainer> make_task_trainer(TrainTask task, const model::Blip& model,
                                               const TaskSettings& settings) {
  if (task == TrainTask::kVqa) return std::make_unique<VqaTaskTrainer>(model, settings);
  return std::make_unique<CaptionTaskTrainer>(model, settings, task_terms(task));
}

}  // namespace capfilt::core
