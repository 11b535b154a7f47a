// Retrieval, captioning and VQA evaluations over an EvalModel, and the files they read
// (core/evaluation.h).

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "core/dataset_readers_internal.h"
#include "core/evaluation.h"
#include "core/image_locator.h"
#include "core/text_checks.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string resolve(const fs::path& folder, const std::string& image) {
  const fs::path p(image);
  return (p.is_absolute() ? p : folder / p).lexically_normal().string();
}

Result<json> read_json_list(const std::string& path, const char* what) {
  Result<std::string> text = detail::read_file_bytes(path);
  if (!text) return text.status();
  Result<json> doc = detail::parse_json(text.value(), fs::path(path).filename().string());
  if (!doc) return doc.status();
  if (!doc->is_array()) {
    return Status::invalid(path + ": expected a list of " + std::string(what) + ", found a " +
                           doc->type_name());
  }
  return doc;
}

void report(const EvalRunOptions& o, int64_t done, int64_t total) {
  if (o.progress) o.progress(done, total);
}

int batch_of(const EvalRunOptions& o) {
  return std::max(1, o.batch_size);
}

}  // namespace

// ---- Files
// ---------------------------------------------------------------------------------------

Result<std::vector<LabelledImage>> read_labelled_images(const std::string& path) {
  Result<json> list = read_json_list(path, "{\"image\", \"caption\"} entries");
  if (!list) return list.status();
  const fs::path folder = fs::path(path).parent_path();
  std::vector<LabelledImage> out;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string image = detail::string_member(entry, "image");
    const json* caption = detail::first_member(entry, {"caption", "text"});
    std::vector<std::string> captions;
    std::string why;
    if (image.empty() || !caption || !detail::caption_strings(*caption, captions, why)) {
      return Status::invalid(path + " record " + std::to_string(i + 1) +
                             ": needs an \"image\" and a \"caption\" (text or list of texts)" +
                             (why.empty() ? "" : ": " + why));
    }
    const std::string resolved = resolve(folder, image);
    auto [it, added] = index.emplace(resolved, out.size());
    if (added) out.push_back({resolved, {}});
    for (auto& c : captions) {
      c = trim_ascii(c);
      if (!c.empty()) out[it->second].captions.push_back(std::move(c));
    }
  }
  if (out.empty()) return Status::invalid(path + ": no captioned image");
  return out;
}

Result<LabelledProjectImages> project_labelled_images_with_ids(
    db::Project& project, const std::string& split, const std::string& image_root,
    const std::vector<db::CaptionSource>& sources) {
  ImageLocator locator;
  if (image_root.empty()) {
    auto found = ImageLocator::for_project(project);
    if (!found) return found.status();
    locator = std::move(found).value();
  }
  db::PairFilter filter;
  filter.split = split;
  filter.sources = sources;
  LabelledProjectImages out;
  int64_t last_image = -1;
  Status s = project.for_each_pair(filter, [&](const db::PairRow& row) {
    if (row.image_id != last_image) {
      std::string path = resolve(image_root, row.image.path);
      if (image_root.empty()) {
        auto file = locator.find(row.image.path);
        if (!file) return file.status();
        path = file.value();
      }
      out.data.push_back({path, {}});
      out.image_ids.push_back(row.image_id);
      out.image_paths.push_back(row.image.path);
      out.caption_ids.emplace_back();
      last_image = row.image_id;
    }
    out.data.back().captions.push_back(row.caption.text);
    out.caption_ids.back().push_back(row.caption_id);
    return Status::ok();
  });
  if (!s) return s;
  if (out.data.empty()) {
    return Status::invalid(project.path() + ": no captioned image in split \"" + split + "\"");
  }
  return out;
}

Result<std::vector<LabelledImage>> project_labelled_images(
    db::Project& project, const std::string& split, const std::string& image_root,
    const std::vector<db::CaptionSource>& sources) {
  auto labelled = project_labelled_images_with_ids(project, split, image_root, sources);
  if (!labelled) return labelled.status();
  return std::move(labelled->data);
}

Result<std::vector<VqaQuestion>> read_vqa_questions(const std::string& path) {
  Result<json> list = read_json_list(path, "questions");
  if (!list) return list.status();
  const fs::path folder = fs::path(path).parent_path();
  std::vector<VqaQuestion> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    VqaQuestion q;
    q.image = detail::string_member(e, "image");
    q.question = detail::string_member(e, "question");
    const json* answers = detail::first_member(e, {"answer", "answers"});
    std::string why;
    if (q.image.empty() || q.question.empty() || !answers ||
        !detail::caption_strings(*answers, q.answers, why) || q.answers.empty()) {
      return Status::invalid(path + " record " + std::to_string(i + 1) +
                             ": needs \"image\", \"question\" and \"answer\" (text or list)");
    }
    q.image = resolve(folder, q.image);
    if (e.contains("question_id") && e["question_id"].is_number_integer()) {
      q.question_id = e["question_id"].get<int64_t>();
    }
    q.kind = detail::string_member(e, "kind");
    if (q.kind.empty()) q.kind = detail::string_member(e, "answer_type");
    out.push_back(std::move(q));
  }
  if (out.empty()) return Status::invalid(path + ": no question");
  return out;
}

// ---- Retrieval
// -----------------------------------------------------------------------------------

namespace {

// Embeddings of `items`, `batch` per model call.
Result<std::vector<std::vector<float>>> embed(
    const std::vector<std::string>& items, size_t batch, const BatchCallback& after_batch,
    const std::function<Result<std::vector<std::vector<float>>>(const std::vector<std::string>&)>&
        model_call) {
  std::vector<std::vector<float>> out;
  out.reserve(items.size());
  for (size_t b = 0; b < items.size(); b += batch) {
    std::vector<std::string> chunk(
        items.begin() + static_cast<std::ptrdiff_t>(b),
        items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), b + batch)));
    auto emb = model_call(chunk);
    if (!emb) return emb.status();
    if (emb->size() != chunk.size())
      return Status::invalid("retrieval: the model returned the wrong number of embeddings");
    for (auto& e : emb.value()) out.push_back(std::move(e));
    if (after_batch && !after_batch(static_cast<int64_t>(out.size())))
      return Status::cancelled("retrieval: cancelled");
  }
  return out;
}

}  // namespace

Result<std::vector<std::vector<float>>> embed_images(const EvalModel& model,
                                                     const std::vector<std::string>& images,
                                                     int batch_size,
                                                     const BatchCallback& after_batch) {
  return embed(images, static_cast<size_t>(std::max(1, batch_size)), after_batch,
               [&](const std::vector<std::string>& chunk) { return model.image_embeddings(chunk); });
}

Result<std::vector<std::vector<float>>> embed_texts(const EvalModel& model,
                                                    const std::vector<std::string>& texts,
                                                    int batch_size,
                                                    const BatchCallback& after_batch) {
  return embed(texts, static_cast<size_t>(std::max(1, batch_size)) * 16, after_batch,
               [&](const std::vector<std::string>& chunk) { return model.text_embeddings(chunk); });
}

eval::PairScorer match_scorer(const EvalModel& model, const std::vector<std::string>& images,
                              const std::vector<std::string>& texts, int batch_size,
                              BatchCallback after_batch) {
  const int batch = std::max(1, batch_size);
  return [&model, &images, &texts, batch, after_batch = std::move(after_batch)](
             const std::vector<eval::ImageTextIndex>& pairs) -> Result<std::vector<double>> {
    std::vector<double> scores;
    scores.reserve(pairs.size());
    for (size_t p = 0; p < pairs.size();) {
      std::vector<std::string> chunk;
      std::vector<ImageText> chunk_pairs;
      for (; p < pairs.size(); ++p) {
        const std::string& path = images[static_cast<size_t>(pairs[p].image)];
        if (chunk.empty() || chunk.back() != path) {
          if (static_cast<int>(chunk.size()) == batch) break;
          chunk.push_back(path);
        }
        chunk_pairs.push_back(
            {static_cast<int64_t>(chunk.size()) - 1, texts[static_cast<size_t>(pairs[p].text)]});
      }
      auto s = model.match(chunk, chunk_pairs);
      if (!s) return s.status();
      if (s->size() != chunk_pairs.size())
        return Status::invalid("retrieval: ITM returned the wrong number of scores");
      scores.insert(scores.end(), s->begin(), s->end());
      if (after_batch && !after_batch(static_cast<int64_t>(scores.size())))
        return Status::cancelled("retrieval: cancelled");
    }
    return scores;
  };
}

Result<RetrievalScores> score_retrieval(const EvalModel& model,
                                        const std::vector<std::string>& images,
                                        const std::vector<std::string>& texts,
                                        const std::vector<int64_t>& text_image,
                                        const std::vector<std::vector<float>>& image_embeddings,
                                        const std::vector<std::vector<float>>& text_embeddings,
                                        int k, const EvalRunOptions& options) {
  if (k < 1) return Status::invalid("retrieval: k must be at least 1");
  if (image_embeddings.size() != images.size() || text_embeddings.size() != texts.size() ||
      text_image.size() != texts.size()) {
    return Status::invalid("retrieval: the embeddings do not match the images and texts");
  }
  RetrievalScores out;
  out.text_image = text_image;
  out.itc = eval::dot_products(image_embeddings, text_embeddings);
  const auto n_images = static_cast<int64_t>(images.size());
  int64_t total_pairs = 0;
  auto itm = match_scorer(model, images, texts, batch_of(options), [&](int64_t scored) {
    report(options, n_images + scored, n_images + total_pairs);
    return !(options.cancelled && options.cancelled());
  });
  // The scorer sees every pair at once; the total is known when it is called.
  auto counted = [&](const std::vector<eval::ImageTextIndex>& pairs) {
    total_pairs = static_cast<int64_t>(pairs.size());
    return itm(pairs);
  };
  auto reranked = eval::rerank_top_k(out.itc, k, counted);
  if (!reranked) return reranked.status();
  out.reranked = std::move(reranked).value();
  return out;
}

Result<RetrievalEvaluation> summarize_retrieval(const RetrievalScores& scores, int k) {
  RetrievalEvaluation e;
  e.images = scores.itc.rows;
  e.texts = scores.itc.cols;
  e.k = k;
  e.pairs_scored = scores.reranked.pairs_scored;
  auto itc_recall = eval::retrieval_recall(scores.itc, scores.text_image);
  auto itm_recall = eval::reranked_recall(scores.reranked, scores.text_image);
  if (!itc_recall) return itc_recall.status();
  if (!itm_recall) return itm_recall.status();
  e.itc = itc_recall.value();
  e.itc_itm = itm_recall.value();
  return e;
}

Result<RetrievalEvaluation> evaluate_retrieval(const EvalModel& model,
                                               const std::vector<LabelledImage>& data, int k,
                                               const EvalRunOptions& options) {
  if (k < 1) return Status::invalid("retrieval: k must be at least 1");
  std::vector<std::string> images, texts;
  std::vector<int64_t> text_image;
  for (const auto& item : data) {
    for (const auto& c : item.captions) {
      texts.push_back(c);
      text_image.push_back(static_cast<int64_t>(images.size()));
    }
    images.push_back(item.image);
  }
  if (texts.empty()) return Status::invalid("retrieval: no caption to retrieve");
  const int batch = batch_of(options);
  const auto n_images = static_cast<int64_t>(images.size());
  auto not_cancelled = [&] { return !(options.cancelled && options.cancelled()); };
  auto image_emb = embed_images(model, images, batch, [&](int64_t done) {
    report(options, done, n_images);
    return not_cancelled();
  });
  if (!image_emb) return image_emb.status();
  auto text_emb = embed_texts(model, texts, batch, [&](int64_t) { return not_cancelled(); });
  if (!text_emb) return text_emb.status();
  auto scores = score_retrieval(model, images, texts, text_image, image_emb.value(),
                                text_emb.value(), k, options);
  if (!scores) return scores.status();
  return summarize_retrieval(scores.value(), k);
}

// ---- Captioning
// ----------------------------------------------------------------------------------

Result<CaptionEvaluation> evaluate_captions(const EvalModel& model,
                                            const std::vector<LabelledImage>& data,
                                            const EvalRunOptions& options) {
  const int batch = batch_of(options);
  CaptionEvaluation e;
  std::vector<eval::CaptionSample> samples;
  for (size_t b = 0; b < data.size(); b += static_cast<size_t>(batch)) {
    std::vector<std::string> chunk;
    for (size_t i = b; i < std::min(data.size(), b + batch); ++i) chunk.push_back(data[i].image);
    auto captions = model.caption(chunk);
    if (!captions) return captions.status();
    if (captions->size() != chunk.size())
      return Status::invalid("captioning: the model returned the wrong number of captions");
    for (size_t i = 0; i < chunk.size(); ++i) {
      eval::CaptionSample s;
      s.candidate = eval::tokenize_caption((*captions)[i]);
      for (const auto& ref : data[b + i].captions)
        s.references.push_back(eval::tokenize_caption(ref));
      samples.push_back(std::move(s));
      e.captions.push_back((*captions)[i]);
    }
    report(options, static_cast<int64_t>(samples.size()), static_cast<int64_t>(data.size()));
  }
  e.images = static_cast<int64_t>(samples.size());
  e.bleu = eval::corpus_bleu(samples);
  e.cider = eval::cider_d(samples);
  return e;
}

// ---- VQA
// -----------------------------------------------------------------------------------------

Result<VqaEvaluation> evaluate_vqa(const EvalModel& model,
                                   const std::vector<VqaQuestion>& questions,
                                   const EvalRunOptions& options) {
  // Questions grouped by image (first-seen order) so each image is encoded once.
  std::vector<std::string> order;
  std::map<std::string, std::vector<size_t>> by_image;
  for (size_t i = 0; i < questions.size(); ++i) {
    auto& list = by_image[questions[i].image];
    if (list.empty()) order.push_back(questions[i].image);
    list.push_back(i);
  }
  VqaEvaluation e;
  e.answers.resize(questions.size());
  std::vector<double> accuracy(questions.size(), 0.0);
  int64_t done = 0;
  for (const std::string& image : order) {
    const auto& idx = by_image[image];
    std::vector<std::string> asked;
    for (size_t i : idx) asked.push_back(questions[i].question);
    auto answers = model.answer(image, asked);
    if (!answers) return answers.status();
    if (answers->size() != idx.size())
      return Status::invalid("VQA: the model returned the wrong number of answers");
    for (size_t j = 0; j < idx.size(); ++j) {
      e.answers[idx[j]] = (*answers)[j];
      accuracy[idx[j]] = eval::vqa_accuracy((*answers)[j], questions[idx[j]].answers);
    }
    done += static_cast<int64_t>(idx.size());
    report(options, done, static_cast<int64_t>(questions.size()));
  }
  e.questions = static_cast<int64_t>(questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    e.accuracy += accuracy[i];
    const std::string kind = questions[i].kind.empty() ? "all" : questions[i].kind;
    e.by_kind[kind] += accuracy[i];
    ++e.kind_counts[kind];
  }
  if (e.questions > 0) e.accuracy /= static_cast<double>(e.questions);
  for (auto& [kind, sum] : e.by_kind) sum /= static_cast<double>(e.kind_counts[kind]);
  return e;
}

}  // namespace capfilt::core
