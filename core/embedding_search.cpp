// Brute-force top-k by dot product (core/embedding_search.h).
//
// The scan ranks rows with a fast float dot product (16 independent accumulators, which the
// compiler vectorises), keeps every row whose fast score could still be among the k best once
// rounding is accounted for, and scores those again with `dot`. The answer is therefore exactly
// the top k under `dot` (the error bound argument is at `fast_error_bound`), at the cost of a
// float pass over the matrix.

#include "core/embedding_search.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace capfilt::core {
namespace {

// a before b in the answer: the higher score, then the lower index.
bool better(const Hit& a, const Hit& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

float fast_dot(const float* a, const float* b, int64_t dim) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t d = 0;
  for (; d + kLanes <= dim; d += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] += a[d + j] * b[d + j];
  }
  float sum = 0;
  for (; d < dim; ++d) sum += a[d] * b[d];
  for (int j = 0; j < kLanes; ++j) sum += acc[j];
  return sum;
}

// |fast_dot - dot| for embeddings of norm at most √2: float rounding of dim products and sums is
// at most dim · 2^-24 · Σ|a_d b_d| (any summation order), and Σ|a_d b_d| ≤ |a|·|b| ≤ 2.
// Doubled again for safety; `dot`'s own double rounding is negligible beside it.
double fast_error_bound(int64_t dim) { return 4.0 * static_cast<double>(dim + 1) * std::ldexp(1.0, -24); }

// Fast scores of rows [begin, end) into scores[begin, end); returns the k best fast scores' worst.
float scan(const EmbeddingMatrix& m, const float* query, size_t k, int64_t begin, int64_t end,
           std::vector<float>* scores) {
  std::vector<float> heap;  // min-heap of the k best fast scores
  heap.reserve(k + 1);
  auto worse = [](float a, float b) { return a > b; };
  for (int64_t r = begin; r < end; ++r) {
    const float s = fast_dot(m.row(r), query, m.dim);
    (*scores)[static_cast<size_t>(r)] = s;
    if (heap.size() < k) {
      heap.push_back(s);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (s > heap.front()) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = s;
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  return heap.size() < k ? -INFINITY : heap.front();
}

}  // namespace

double dot(const float* a, const float* b, int64_t dim) {
  double sum = 0;
  for (int64_t d = 0; d < dim; ++d) sum += double(a[d]) * b[d];
  return sum;
}

std::vector<Hit> search_top_k(const EmbeddingMatrix& matrix, const float* query, int k,
                              int threads) {
  if (k < 1 || matrix.rows == 0) return {};
  const auto keep = static_cast<size_t>(std::min<int64_t>(k, matrix.rows));
  const int64_t parts = std::clamp<int64_t>(threads, 1, std::max<int64_t>(1, matrix.rows / 4096));
  const int64_t step = (matrix.rows + parts - 1) / parts;
  std::vector<float> scores(static_cast<size_t>(matrix.rows));
  std::vector<float> worst(static_cast<size_t>(parts));
  std::vector<std::thread> workers;
  for (int64_t p = 1; p < parts; ++p) {
    workers.emplace_back([&, p] {
      worst[p] = scan(matrix, query, keep, p * step, std::min(matrix.rows, (p + 1) * step), &scores);
    });
  }
  worst[0] = scan(matrix, query, keep, 0, std::min(matrix.rows, step), &scores);
  for (auto& w : workers) w.join();
  // The k-th best fast score overall is at least every part's k-th best.
  const double kth = *std::max_element(worst.begin(), worst.end());
  // A row of the exact top k has a fast score ≥ kth - 2·bound (the bound on either side).
  const double floor = kth - 2 * fast_error_bound(matrix.dim);
  std::vector<Hit> candidates;
  for (int64_t r = 0; r < matrix.rows; ++r) {
    if (scores[static_cast<size_t>(r)] >= floor)
      candidates.push_back({r, dot(matrix.row(r), query, matrix.dim)});
  }
  const auto n = std::min(candidates.size(), keep);
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                    candidates.end(), better);
  candidates.resize(n);
  return candidates;
}

}  // namespace capfilt::core
