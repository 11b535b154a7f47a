// One query of the retrieval explorer and the labelled split's recall (core/retrieval_explorer.h).

#include "core/retrieval_explorer.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace capfilt::core {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// The ITC top k as items, and the (image, text) pairs ITM must score, sorted by image as the
// evaluation's re-ranking sends them.
struct Candidates {
  std::vector<RetrievedItem> items;
  std::vector<eval::ImageTextIndex> pairs;
};

Result<RetrievalAnswer> rerank(Candidates c, const eval::PairScorer& itm, double search_ms) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<size_t> order(c.pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_pair(c.pairs[a].image, c.pairs[a].text) <
           std::make_pair(c.pairs[b].image, c.pairs[b].text);
  });
  std::vector<eval::ImageTextIndex> sorted;
  for (size_t i : order) sorted.push_back(c.pairs[i]);
  auto scored = itm(sorted);
  if (!scored) return scored.status();
  if (scored->size() != sorted.size())
    return Status::invalid("retrieval: ITM returned the wrong number of scores");
  std::vector<eval::Candidate> candidates(c.items.size());
  for (size_t j = 0; j < order.size(); ++j) {
    RetrievedItem& item = c.items[order[j]];
    item.itm = (*scored)[j];
    candidates[order[j]] = {item.row, item.itc, item.itm, 0};
  }
  RetrievalAnswer answer;
  answer.search_ms = search_ms;
  std::unordered_map<int64_t, size_t> at;  // row -> position in the ITC column
  for (size_t i = 0; i < c.items.size(); ++i) at[c.items[i].row] = i;
  const auto ranked = eval::rerank_candidates(std::move(candidates));
  for (size_t r = 0; r < ranked.size(); ++r) {
    RetrievedItem& item = c.items[at[ranked[r].index]];
    item.score = ranked[r].score;
    item.reranked_rank = static_cast<int64_t>(r);
  }
  answer.itc = c.items;
  for (const auto& r : ranked) answer.reranked.push_back(c.items[at[r.index]]);
  answer.itm_ms = ms_since(start);
  return answer;
}

Status check_query(const EmbeddingMatrix& m, const std::vector<float>& query, int k) {
  if (k < 1) return Status::invalid("retrieval: k must be at least 1");
  if (static_cast<int64_t>(query.size()) != m.dim) {
    return Status::invalid("retrieval: the query's embedding has " + std::to_string(query.size()) +
                           " dimensions, the index " + std::to_string(m.dim) +
                           " (was the index made with another model?)");
  }
  return Status::ok();
}

}  // namespace

Result<RetrievalAnswer> images_for_text(const EvalModel& model, const EmbeddingIndex& index,
                                        const std::vector<std::string>& image_files,
                                        const std::string& text,
                                        const std::vector<float>& text_embedding,
                                        const QueryOptions& options) {
  Status s = check_query(index.images, text_embedding, options.k);
  if (!s) return s;
  if (static_cast<int64_t>(image_files.size()) != index.images.rows)
    return Status::invalid("retrieval: one file is needed per indexed image");
  const auto start = std::chrono::steady_clock::now();
  const auto hits = search_top_k(index.images, text_embedding.data(), options.k, options.threads);
  const double search_ms = ms_since(start);
  Candidates c;
  for (size_t r = 0; r < hits.size(); ++r) {
    c.items.push_back({hits[r].index, hits[r].score, static_cast<int64_t>(r), 0, 0, 0});
    c.pairs.push_back({hits[r].index, 0});
  }
  const std::vector<std::string> texts = {text};
  return rerank(std::move(c), match_scorer(model, image_files, texts, options.batch_size),
                search_ms);
}

Result<RetrievalAnswer> texts_for_image(const EvalModel& model, const EmbeddingIndex& index,
                                        const std::vector<std::string>& texts,
                                        const std::string& image_file,
                                        const std::vector<float>& image_embedding,
                                        const QueryOptions& options) {
  Status s = check_query(index.texts, image_embedding, options.k);
  if (!s) return s;
  if (static_cast<int64_t>(texts.size()) != index.texts.rows)
    return Status::invalid("retrieval: one text is needed per indexed caption");
  const auto start = std::chrono::steady_clock::now();
  const auto hits = search_top_k(index.texts, image_embedding.data(), options.k, options.threads);
  const double search_ms = ms_since(start);
  Candidates c;
  for (size_t r = 0; r < hits.size(); ++r) {
    c.items.push_back({hits[r].index, hits[r].score, static_cast<int64_t>(r), 0, 0, 0});
    c.pairs.push_back({0, hits[r].index});
  }
  const std::vector<std::string> images = {image_file};
  return rerank(std::move(c), match_scorer(model, images, texts, options.batch_size), search_ms);
}

Result<SplitRetrieval> evaluate_split(const EvalModel& model, const EmbeddingIndex& index,
                                      const ProjectItems& items,
                                      const LabelledProjectImages& split, int k,
                                      const EvalRunOptions& options) {
  std::unordered_map<int64_t, int64_t> image_row, caption_row;
  for (size_t r = 0; r < items.image_ids.size(); ++r) image_row[items.image_ids[r]] = r;
  for (size_t r = 0; r < items.caption_ids.size(); ++r) caption_row[items.caption_ids[r]] = r;
  SplitRetrieval out;
  std::vector<std::string> images, texts;
  std::vector<int64_t> text_image;
  std::vector<std::vector<float>> image_emb, text_emb;
  const Status stale = Status::invalid(
      "retrieval: the split has images or captions the embedding index lacks; rebuild the index");
  for (size_t i = 0; i < split.data.size(); ++i) {
    auto img = image_row.find(split.image_ids[i]);
    if (img == image_row.end() || img->second >= index.images.rows) return stale;
    out.image_rows.push_back(img->second);
    images.push_back(split.data[i].image);
    image_emb.emplace_back(index.images.row(img->second),
                           index.images.row(img->second) + index.images.dim);
    for (size_t j = 0; j < split.data[i].captions.size(); ++j) {
      auto cap = caption_row.find(split.caption_ids[i][j]);
      if (cap == caption_row.end() || cap->second >= index.texts.rows) return stale;
      out.caption_rows.push_back(cap->second);
      texts.push_back(split.data[i].captions[j]);
      text_image.push_back(static_cast<int64_t>(i));
      text_emb.emplace_back(index.texts.row(cap->second),
                            index.texts.row(cap->second) + index.texts.dim);
    }
  }
  if (texts.empty()) return Status::invalid("retrieval: no caption to retrieve");
  auto scores = score_retrieval(model, images, texts, text_image, image_emb, text_emb, k, options);
  if (!scores) return scores.status();
  auto summary = summarize_retrieval(scores.value(), k);
  if (!summary) return summary.status();
  out.summary = summary.value();
  auto itc_ranks = eval::query_ranks(scores->itc, scores->itc, text_image);
  auto reranked_ranks =
      eval::query_ranks(scores->reranked.image_to_text, scores->reranked.text_to_image, text_image);
  if (!itc_ranks) return itc_ranks.status();
  if (!reranked_ranks) return reranked_ranks.status();
  out.itc_ranks = std::move(itc_ranks).value();
  out.reranked_ranks = std::move(reranked_ranks).value();
  return out;
}

}  // namespace capfilt::core
