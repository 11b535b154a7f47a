#include "model/trainer.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "model/error.h"
#include "model/generation.h"

namespace capfilt::model {

PretrainBatch make_batch(const ImageTextPairs& data, const std::vector<int64_t>& indices,
                         const Tokenizer& tokenizer, int64_t max_text_length) {
  std::vector<std::string> texts;
  for (int64_t i : indices) texts.push_back(data.captions.at(i));
  BatchEncodeOptions encode;
  encode.max_length = max_text_length;
  BatchEncoding enc = tokenizer.encode_batch(texts, encode);
  PretrainBatch batch;
  const torch::Tensor index = torch::tensor(indices, torch::kLong);
  batch.pixels = data.pixels.index_select(0, index);
  batch.image_ids = data.image_ids.index_select(0, index);
  batch.ids = torch::tensor(enc.input_ids, torch::kLong).view({enc.batch_size, enc.seq_len});
  batch.mask = torch::tensor(enc.attention_mask, torch::kLong).view({enc.batch_size, enc.seq_len});
  return batch;
}

TrainSummary train(Pretrainer& trainer, const ImageTextPairs& data, const Tokenizer& tokenizer,
                   const TrainLoopOptions& options, const TrainCallbacks& callbacks) {
  const int64_t n = static_cast<int64_t>(data.captions.size());
  const torch::Tensor ids = data.image_ids.to(torch::kCPU).to(torch::kLong).contiguous();
  const std::set<int64_t> distinct(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  if (n < 2 || distinct.size() < 2) {
    throw ModelError("training needs pairs of at least two distinct images");
  }
  const int64_t batch_size = std::clamp<int64_t>(options.batch_size, 2, n);
  std::mt19937_64 rng(options.seed);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  size_t next = order.size();  // forces a shuffle first

  TrainSummary summary;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < options.steps; ++step) {
    if (callbacks.should_cancel && callbacks.should_cancel()) {
      summary.cancelled = true;
      break;
    }
    if (next + batch_size > order.size()) {
      std::shuffle(order.begin(), order.end(), rng);
      next = 0;
    }
    std::vector<int64_t> indices(order.begin() + next, order.begin() + next + batch_size);
    next += batch_size;
    summary.history.push_back(
        trainer.step(make_batch(data, indices, tokenizer, options.max_text_length)));
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (callbacks.on_step) {
      TrainProgress progress;
      progress.step = step + 1;
      progress.total_steps = options.steps;
      progress.batch_size = batch_size;
      progress.result = summary.history.back();
      progress.elapsed_seconds = summary.seconds;
      progress.pairs_per_second = summary.seconds > 0 ? (step + 1) * batch_size / summary.seconds : 0;
      callbacks.on_step(progress);
    }
  }
  return summary;
}

double LearnedPairs::matched_mean() const {
  double sum = 0.0;
  for (size_t i = 0; i < itm.size(); ++i) sum += itm[i][i];
  return itm.empty() ? 0.0 : sum / static_cast<double>(itm.size());
}

double LearnedPairs::mismatched_mean() const {
  double sum = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < itm.size(); ++i) {
    for (size_t j = 0; j < itm[i].size(); ++j) {
      if (i != j) sum += itm[i][j], ++n;
    }
  }
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

LearnedPairs inspect_learned(const BlipImpl& model, const ImageTextPairs& data,
                             const Tokenizer& tokenizer, int64_t max_text_length) {
  torch::InferenceMode guard;
  const torch::Device device = model.parameters().front().device();
  const int64_t n = static_cast<int64_t>(data.captions.size());
  std::vector<int64_t> all(n);
  for (int64_t i = 0; i < n; ++i) all[i] = i;
  const PretrainBatch batch = make_batch(data, all, tokenizer, max_text_length);
  const torch::Tensor pixels = batch.pixels.to(device);
  const torch::Tensor image_embeds = model.encode_image(pixels);
  const torch::Tensor enc_ids = with_first_token(batch.ids, model.config().text.tokens.enc).to(device);
  const torch::Tensor mask = batch.mask.to(device);

  LearnedPairs out;
  out.itm.assign(n, std::vector<double>(n, 0.0));
  for (int64_t caption = 0; caption < n; ++caption) {  // every image against one caption at a time
    const torch::Tensor rows = torch::full({n}, caption, torch::kLong).to(device);
    const torch::Tensor p = torch::softmax(
        model.itm_logits(image_embeds, enc_ids.index_select(0, rows), mask.index_select(0, rows)),
        1).select(1, 1).cpu();
    for (int64_t image = 0; image < n; ++image) out.itm[image][caption] = p[image].item<double>();
  }
  GenerationOptions greedy;
  greedy.method = DecodingMethod::kGreedy;
  greedy.max_length = static_cast<int>(max_text_length);
  greedy.min_length = 1;
  const GenerationOutput generated = generate_captions(model, pixels, greedy);
  for (int64_t i = 0; i < n; ++i) {
    out.greedy_captions.push_back(tokenizer.decode(generated.generated(i)));
  }
  return out;
}

}  // namespace capfilt::model
