// Retrieval recall, BLIP's two-step re-ranking, and binary classification figures
// (core/eval_metrics.h). The captioning and VQA metrics live in eval_caption_metrics.cpp and
// eval_vqa_metrics.cpp.

#include "core/eval_metrics.h"

#include "core/embedding_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

namespace capfilt::core::eval {

// ---- Retrieval
// -----------------------------------------------------------------------------------

ScoreMatrix dot_products(const std::vector<std::vector<float>>& image_embeddings,
                         const std::vector<std::vector<float>>& text_embeddings) {
  ScoreMatrix m;
  m.rows = static_cast<int64_t>(image_embeddings.size());
  m.cols = static_cast<int64_t>(text_embeddings.size());
  m.values.assign(static_cast<size_t>(m.rows * m.cols), 0.0);
  for (int64_t i = 0; i < m.rows; ++i) {
    const auto& a = image_embeddings[static_cast<size_t>(i)];
    for (int64_t t = 0; t < m.cols; ++t) {
      const auto& b = text_embeddings[static_cast<size_t>(t)];
      // The explorer's search (core/embedding_search.h) scores with the same function.
      m.at(i, t) = core::dot(a.data(), b.data(), static_cast<int64_t>(std::min(a.size(), b.size())));
    }
  }
  return m;
}

namespace {

// Position of item `index` (score s) in a stable descending sort of `n` scores given by `score`.
template <typename ScoreOf>
int64_t stable_rank(int64_t n, int64_t index, const ScoreOf& score) {
  const double s = score(index);
  int64_t rank = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double o = score(j);
    if (o > s || (o == s && j < index)) ++rank;
  }
  return rank;
}

void add_hit(int64_t rank, RecallAtK* r) {
  if (rank < 1) r->r1 += 1;
  if (rank < 5) r->r5 += 1;
  if (rank < 10) r->r10 += 1;
}

void divide(RecallAtK* r, int64_t n) {
  if (n == 0) return;
  r->r1 /= static_cast<double>(n);
  r->r5 /= static_cast<double>(n);
  r->r10 /= static_cast<double>(n);
}

Status check_sizes(const ScoreMatrix& m, const std::vector<int64_t>& text_image) {
  if (m.values.size() != static_cast<size_t>(m.rows * m.cols) ||
      text_image.size() != static_cast<size_t>(m.cols)) {
    return Status::invalid("retrieval: the score matrix is " + std::to_string(m.rows) + " × " +
                           std::to_string(m.cols) + " but " + std::to_string(text_image.size()) +
                           " texts have an image");
  }
  for (int64_t img : text_image) {
    if (img < 0 || img >= m.rows) {
      return Status::invalid("retrieval: a text refers to image " + std::to_string(img) + " of " +
                             std::to_string(m.rows));
    }
  }
  return Status::ok();
}

std::vector<int64_t> image_ranks(const ScoreMatrix& m, const std::vector<int64_t>& text_image) {
  std::vector<int64_t> ranks(static_cast<size_t>(m.rows), -1);
  for (int64_t i = 0; i < m.rows; ++i) {
    int64_t best = std::numeric_limits<int64_t>::max();
    for (int64_t t = 0; t < m.cols; ++t) {
      if (text_image[static_cast<size_t>(t)] != i) continue;
      best = std::min(best, stable_rank(m.cols, t, [&](int64_t j) { return m.at(i, j); }));
    }
    if (best != std::numeric_limits<int64_t>::max()) ranks[static_cast<size_t>(i)] = best;
  }
  return ranks;
}

std::vector<int64_t> text_ranks(const ScoreMatrix& m, const std::vector<int64_t>& text_image) {
  std::vector<int64_t> ranks(static_cast<size_t>(m.cols));
  for (int64_t t = 0; t < m.cols; ++t) {
    ranks[static_cast<size_t>(t)] = stable_rank(m.rows, text_image[static_cast<size_t>(t)],
                                                [&](int64_t j) { return m.at(j, t); });
  }
  return ranks;
}

}  // namespace

RecallAtK recall_of(const std::vector<int64_t>& ranks) {
  RecallAtK r;
  int64_t queries = 0;
  for (int64_t rank : ranks) {
    if (rank < 0) continue;  // an image without texts
    ++queries;
    add_hit(rank, &r);
  }
  divide(&r, queries);
  return r;
}

Result<QueryRanks> query_ranks(const ScoreMatrix& image_to_text, const ScoreMatrix& text_to_image,
                               const std::vector<int64_t>& text_image) {
  Status s = check_sizes(image_to_text, text_image);
  if (s) s = check_sizes(text_to_image, text_image);
  if (!s) return s;
  return QueryRanks{image_ranks(image_to_text, text_image), text_ranks(text_to_image, text_image)};
}

Result<RetrievalRecall> retrieval_recall(const ScoreMatrix& scores,
                                         const std::vector<int64_t>& text_image) {
  auto ranks = query_ranks(scores, scores, text_image);
  if (!ranks) return ranks.status();
  return RetrievalRecall{recall_of(ranks->image_to_text), recall_of(ranks->text_to_image)};
}

std::vector<int64_t> top_k(int64_t n, int k, const std::function<double(int64_t)>& score) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  const auto keep = static_cast<size_t>(std::clamp<int64_t>(k, 0, n));
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(keep), idx.end(),
                    [&](int64_t a, int64_t b) {
                      const double sa = score(a), sb = score(b);
                      return sa > sb || (sa == sb && a < b);
                    });
  idx.resize(keep);
  return idx;
}

std::vector<Candidate> rerank_candidates(std::vector<Candidate> candidates) {
  for (Candidate& c : candidates) c.score = reranked_score(c.itm, c.itc);
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  return candidates;
}

Result<RerankedScores> rerank_top_k(const ScoreMatrix& itc, int k, const PairScorer& itm) {
  if (k < 1)
    return Status::invalid("retrieval: k must be at least 1 (got " + std::to_string(k) + ")");
  if (itc.values.size() != static_cast<size_t>(itc.rows * itc.cols)) {
    return Status::invalid("retrieval: the ITC matrix has the wrong number of values");
  }
  std::vector<std::vector<int64_t>> texts_of(static_cast<size_t>(itc.rows));
  std::vector<std::vector<int64_t>> images_of(static_cast<size_t>(itc.cols));
  std::set<std::pair<int64_t, int64_t>> needed;
  for (int64_t i = 0; i < itc.rows; ++i) {
    texts_of[static_cast<size_t>(i)] = top_k(itc.cols, k, [&](int64_t t) { return itc.at(i, t); });
    for (int64_t t : texts_of[static_cast<size_t>(i)]) needed.insert({i, t});
  }
  for (int64_t t = 0; t < itc.cols; ++t) {
    images_of[static_cast<size_t>(t)] = top_k(itc.rows, k, [&](int64_t i) { return itc.at(i, t); });
    for (int64_t i : images_of[static_cast<size_t>(t)]) needed.insert({i, t});
  }
  std::vector<ImageTextIndex> pairs;
  pairs.reserve(needed.size());
  for (const auto& [i, t] : needed) pairs.push_back({i, t});
  Result<std::vector<double>> scored = itm(pairs);
  if (!scored) return scored.status();
  if (scored->size() != pairs.size()) {
    return Status::invalid("retrieval: the ITM scorer returned " + std::to_string(scored->size()) +
                           " scores for " + std::to_string(pairs.size()) + " pairs");
  }
  ScoreMatrix match = itc;
  for (size_t p = 0; p < pairs.size(); ++p) {
    match.at(pairs[p].image, pairs[p].text) =
        reranked_score((*scored)[p], itc.at(pairs[p].image, pairs[p].text));
  }
  RerankedScores out;
  out.pairs_scored = static_cast<int64_t>(pairs.size());
  out.image_to_text = out.text_to_image = ScoreMatrix{itc.rows, itc.cols, {}};
  out.image_to_text.values.assign(itc.values.size(), -100.0);
  out.text_to_image.values.assign(itc.values.size(), -100.0);
  for (int64_t i = 0; i < itc.rows; ++i) {
    for (int64_t t : texts_of[static_cast<size_t>(i)]) out.image_to_text.at(i, t) = match.at(i, t);
  }
  for (int64_t t = 0; t < itc.cols; ++t) {
    for (int64_t i : images_of[static_cast<size_t>(t)]) out.text_to_image.at(i, t) = match.at(i, t);
  }
  return out;
}

Result<RetrievalRecall> reranked_recall(const RerankedScores& scores,
                                        const std::vector<int64_t>& text_image) {
  auto ranks = query_ranks(scores.image_to_text, scores.text_to_image, text_image);
  if (!ranks) return ranks.status();
  return RetrievalRecall{recall_of(ranks->image_to_text), recall_of(ranks->text_to_image)};
}

// ---- Binary classification
// -----------------------------------------------------------------------

double BinaryCounts::precision() const {
  const int64_t predicted = true_positive + false_positive;
  return predicted == 0 ? 0.0 : static_cast<double>(true_positive) / static_cast<double>(predicted);
}

double BinaryCounts::recall() const {
  const int64_t actual = true_positive + false_negative;
  return actual == 0 ? 0.0 : static_cast<double>(true_positive) / static_cast<double>(actual);
}

double BinaryCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

BinaryCounts confusion(const std::vector<bool>& predicted, const std::vector<bool>& actual) {
  BinaryCounts c;
  for (size_t i = 0; i < std::min(predicted.size(), actual.size()); ++i) {
    if (predicted[i] && actual[i]) ++c.true_positive;
    if (predicted[i] && !actual[i]) ++c.false_positive;
    if (!predicted[i] && actual[i]) ++c.false_negative;
    if (!predicted[i] && !actual[i]) ++c.true_negative;
  }
  return c;
}

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const size_t n = std::min(scores.size(), positive.size());
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mid-ranks (1-based) of tied groups; the sum of the positives' ranks gives Mann-Whitney's U.
  double positive_rank_sum = 0;
  int64_t positives = 0;
  for (size_t g = 0; g < n;) {
    size_t end = g;
    while (end < n && scores[order[end]] == scores[order[g]]) ++end;
    const double mid_rank = (static_cast<double>(g + 1) + static_cast<double>(end)) / 2;
    for (size_t j = g; j < end; ++j) {
      if (positive[order[j]]) {
        positive_rank_sum += mid_rank;
        ++positives;
      }
    }
    g = end;
  }
  const auto negatives = static_cast<int64_t>(n) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  const double p = static_cast<double>(positives);
  return (positive_rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

ThresholdChoice best_f1_threshold_below(const std::vector<double>& scores,
                                        const std::vector<bool>& positive) {
  const size_t n = std::min(scores.size(), positive.size());
  ThresholdChoice best;
  best.threshold = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    (positive[i] ? best.counts.false_negative : best.counts.true_negative) += 1;
  }
  if (best.counts.false_negative == 0) return best;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  BinaryCounts running = best.counts;
  double best_f1 = -1;
  for (size_t g = 0; g < n;) {
    size_t end = g;
    while (end < n && scores[order[end]] == scores[order[g]]) ++end;
    for (size_t j = g; j < end; ++j) {  // this group of equal scores becomes "positive"
      if (positive[order[j]]) {
        --running.false_negative;
        ++running.true_positive;
      } else {
        --running.true_negative;
        ++running.false_positive;
      }
    }
    const double f1 = running.f1();
    if (f1 > best_f1) {
      best_f1 = f1;
      best.counts = running;
      const double here = scores[order[g]];
      best.threshold = end < n ? (here + scores[order[end]]) / 2
                               : std::nextafter(here, std::numeric_limits<double>::infinity());
    }
    g = end;
  }
  return best;
}

}  // namespace capfilt::core::eval
