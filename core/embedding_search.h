#pragma once
// Nearest neighbours by cosine similarity over L2-normalised embeddings held in one contiguous
// row-major float matrix: the retrieval explorer's ITC search. Brute force: one dot product per
// row and a bounded heap of the k best; over 100,000 × 256 it answers in milliseconds on a CPU
// (tests/bench/retrieval_bench.cpp measures it), so no approximate index is needed.
//
// The similarity of two embeddings is `dot` here and nowhere else: `capfilt eval`'s score matrix
// (eval::dot_products) calls the same function, so a search and an evaluation agree to the bit.
// Torch-free, stateless and thread-safe.

#include <cstdint>
#include <vector>

namespace capfilt::core {

// Σ a[d]·b[d], accumulated in double in order d = 0..dim-1.
double dot(const float* a, const float* b, int64_t dim);

// rows × dim floats, row-major (row r is values[r·dim .. r·dim + dim)).
struct EmbeddingMatrix {
  int64_t rows = 0;
  int64_t dim = 0;
  std::vector<float> values;
  const float* row(int64_t r) const { return values.data() + r * dim; }
};

struct Hit {
  int64_t index = 0;  // the row
  double score = 0;   // dot(row, query)
};

// The k rows with the highest dot product with `query` (dim floats), best first; a tie goes to
// the lower row index (as eval's top-k and its stable ranking break ties). k is clamped to the
// rows there are; k < 1 gives nothing. `threads` > 1 splits the rows between that many threads.
std::vector<Hit> search_top_k(const EmbeddingMatrix& matrix, const float* query, int k,
                              int threads = 1);

}  // namespace capfilt::core
