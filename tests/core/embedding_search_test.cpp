// The explorer's ITC search: exactly the k best rows under core::dot (the evaluation's score),
// ties to the lower row, whatever the thread count; and eval's top-k and re-ranking helpers agree
// with the matrices rerank_top_k builds.

#include "core/embedding_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/eval_metrics.h"

namespace capfilt::core {
namespace {

EmbeddingMatrix random_rows(int64_t rows, int64_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  EmbeddingMatrix m{rows, dim, std::vector<float>(static_cast<size_t>(rows * dim))};
  for (int64_t r = 0; r < rows; ++r) {
    double norm = 0;
    for (int64_t d = 0; d < dim; ++d) {
      float& v = m.values[static_cast<size_t>(r * dim + d)];
      v = normal(rng);
      norm += double(v) * v;
    }
    for (int64_t d = 0; d < dim; ++d) m.values[static_cast<size_t>(r * dim + d)] /= std::sqrt(norm);
  }
  return m;
}

// Every row scored with dot and fully sorted: the definition the search must meet.
std::vector<Hit> by_definition(const EmbeddingMatrix& m, const float* q, int k) {
  std::vector<Hit> all;
  for (int64_t r = 0; r < m.rows; ++r) all.push_back({r, dot(m.row(r), q, m.dim)});
  std::stable_sort(all.begin(), all.end(), [](const Hit& a, const Hit& b) { return a.score > b.score; });
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(k)));
  return all;
}

void expect_same(const std::vector<Hit>& got, const std::vector<Hit>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].index, want[i].index) << "position " << i;
    EXPECT_EQ(got[i].score, want[i].score) << "position " << i;  // bit-equal: the same function
  }
}

TEST(EmbeddingSearch, TopKEqualsAFullSortUnderDot) {
  const EmbeddingMatrix m = random_rows(20000, 64, 3);
  const EmbeddingMatrix queries = random_rows(5, 64, 4);
  for (int64_t q = 0; q < queries.rows; ++q) {
    for (int k : {1, 16, 256}) {
      const auto want = by_definition(m, queries.row(q), k);
      expect_same(search_top_k(m, queries.row(q), k, 1), want);
      expect_same(search_top_k(m, queries.row(q), k, 3), want);
    }
  }
}

TEST(EmbeddingSearch, TiesGoToTheLowerRowAndKIsClamped) {
  // Rows 0..9 repeat one of two vectors: many exact ties.
  EmbeddingMatrix m{10, 4, {}};
  for (int r = 0; r < 10; ++r) {
    const std::vector<float> v = r % 2 ? std::vector<float>{1, 0, 0, 0} : std::vector<float>{0, 1, 0, 0};
    m.values.insert(m.values.end(), v.begin(), v.end());
  }
  const float q[4] = {0.6f, 0.8f, 0, 0};
  const auto hits = search_top_k(m, q, 7);
  std::vector<int64_t> order;
  for (const Hit& h : hits) order.push_back(h.index);
  EXPECT_EQ(order, (std::vector<int64_t>{0, 2, 4, 6, 8, 1, 3}));
  EXPECT_EQ(search_top_k(m, q, 500).size(), 10u);
  EXPECT_TRUE(search_top_k(m, q, 0).empty());
}

TEST(EmbeddingSearch, EvalScoresWithTheSameDot) {
  const EmbeddingMatrix images = random_rows(7, 32, 5);
  const EmbeddingMatrix texts = random_rows(9, 32, 6);
  std::vector<std::vector<float>> a, b;
  for (int64_t r = 0; r < images.rows; ++r) a.emplace_back(images.row(r), images.row(r) + 32);
  for (int64_t r = 0; r < texts.rows; ++r) b.emplace_back(texts.row(r), texts.row(r) + 32);
  const eval::ScoreMatrix itc = eval::dot_products(a, b);
  for (int64_t t = 0; t < texts.rows; ++t) {
    const auto hits = search_top_k(images, texts.row(t), 4);
    const auto top = eval::top_k(itc.rows, 4, [&](int64_t i) { return itc.at(i, t); });
    ASSERT_EQ(hits.size(), top.size());
    for (size_t j = 0; j < top.size(); ++j) {
      EXPECT_EQ(hits[j].index, top[j]);
      EXPECT_EQ(hits[j].score, itc.at(top[j], t));
    }
  }
}

TEST(EmbeddingSearch, RerankedCandidatesRankAsTheEvaluationsMatrix) {
  // 4 images × 5 texts; ITM chosen so that the re-ranking reorders the ITC top 3.
  eval::ScoreMatrix itc{4, 5, {}};
  for (int i = 0; i < 4; ++i)
    for (int t = 0; t < 5; ++t) itc.values.push_back(0.1 * ((i * 3 + t * 7) % 10) - 0.4);
  auto itm_of = [](int64_t i, int64_t t) { return ((i * 5 + t * 3) % 7) / 7.0; };
  auto scored = eval::rerank_top_k(itc, 3, [&](const std::vector<eval::ImageTextIndex>& pairs) {
    std::vector<double> out;
    for (const auto& p : pairs) out.push_back(itm_of(p.image, p.text));
    return Result<std::vector<double>>(out);
  });
  ASSERT_TRUE(scored.is_ok());
  for (int64_t t = 0; t < 5; ++t) {
    std::vector<eval::Candidate> candidates;
    for (int64_t i : eval::top_k(4, 3, [&](int64_t i) { return itc.at(i, t); }))
      candidates.push_back({i, itc.at(i, t), itm_of(i, t), 0});
    const auto ranked = eval::rerank_candidates(candidates);
    // The matrix's column, stably sorted, starts with the candidates in the same order.
    std::vector<int64_t> column(4);
    for (int64_t i = 0; i < 4; ++i) column[i] = i;
    const auto& m = scored->text_to_image;
    std::stable_sort(column.begin(), column.end(),
                     [&](int64_t a, int64_t b) { return m.at(a, t) > m.at(b, t); });
    for (size_t j = 0; j < ranked.size(); ++j) {
      EXPECT_EQ(ranked[j].index, column[j]) << "text " << t;
      EXPECT_EQ(ranked[j].score, m.at(ranked[j].index, t));
    }
  }
}

}  // namespace
}  // namespace capfilt::core
