// The retrieval explorer's query time, not a test: top-k by ITC over N images of dimension D
// (synthetic, L2-normalised random embeddings; the search does not care what they are), with the
// exact search the explorer runs (core/embedding_search.h).
//
//   retrieval_bench [images=100000] [dim=256] [k=256] [queries=50] [threads=1]
//
// Prints the median and the 95th percentile query time in milliseconds.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/embedding_search.h"

namespace {

capfilt::core::EmbeddingMatrix random_unit_rows(int64_t rows, int64_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  capfilt::core::EmbeddingMatrix m{rows, dim, std::vector<float>(static_cast<size_t>(rows * dim))};
  for (int64_t r = 0; r < rows; ++r) {
    float* row = m.values.data() + r * dim;
    double norm = 0;
    for (int64_t d = 0; d < dim; ++d) {
      row[d] = normal(rng);
      norm += double(row[d]) * row[d];
    }
    for (int64_t d = 0; d < dim; ++d) row[d] = static_cast<float>(row[d] / std::sqrt(norm));
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  auto arg = [&](int i, long fallback) { return argc > i ? std::atol(argv[i]) : fallback; };
  const int64_t images = arg(1, 100000), dim = arg(2, 256);
  const int k = static_cast<int>(arg(3, 256)), queries = static_cast<int>(arg(4, 50));
  const int threads = static_cast<int>(arg(5, 1));
  const auto matrix = random_unit_rows(images, dim, 1);
  const auto texts = random_unit_rows(queries, dim, 2);
  std::vector<double> ms;
  int64_t checksum = 0;
  for (int q = 0; q < queries; ++q) {
    const auto start = std::chrono::steady_clock::now();
    const auto hits = capfilt::core::search_top_k(matrix, texts.row(q), k, threads);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    checksum += hits.front().index;
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%lld images x %lld dims, k=%d, %d threads, %d queries: median %.2f ms, p95 %.2f ms, "
              "max %.2f ms (checksum %lld)\n",
              static_cast<long long>(images), static_cast<long long>(dim), k, threads, queries,
              ms[ms.size() / 2], ms[ms.size() * 95 / 100], ms.back(),
              static_cast<long long>(checksum));
  return 0;
}
