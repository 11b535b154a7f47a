#pragma once
// What the studio's retrieval explorer computes, Torch- and Qt-free: one query's ITC top k from a
// project's embedding index (core/embedding_index.h) re-ranked by ITM, and R@1/5/10 of a labelled
// split with every query's rank. Built from the evaluation's own steps (core/evaluation.h: the
// match scorer, score_retrieval, query ranks; core/eval_metrics.h: top-k ties and the re-ranked
// score), so the explorer shows what `capfilt eval retrieval` computes.
//
// Stateless; the model and the index are read-only here, so several threads may query at once.

#include <cstdint>
#include <string>
#include <vector>

#include "core/embedding_index.h"
#include "core/evaluation.h"

namespace capfilt::core {

// One item of a query's answer: an image (text → image) or a caption (image → text).
struct RetrievedItem {
  int64_t row = 0;            // the index's image or caption row (ProjectItems order)
  double itc = 0;             // cosine similarity to the query
  int64_t itc_rank = 0;       // 0-based position in the ITC column
  double itm = 0;             // ITM match probability of (image, text)
  double score = 0;           // eval::reranked_score(itm, itc): the re-ranked column's order
  int64_t reranked_rank = 0;  // 0-based position in the re-ranked column
};

struct RetrievalAnswer {
  std::vector<RetrievedItem> itc;       // the ITC top k, best first
  std::vector<RetrievedItem> reranked;  // the same items re-ranked by ITM, best first
  double search_ms = 0;                 // the ITC search over the whole index
  double itm_ms = 0;                    // ITM of the k pairs
};

struct QueryOptions {
  int k = 64;           // candidates (16–256 in the studio); clamped to the items there are
  int batch_size = 16;  // images per ITM call, as `capfilt eval --batch`
  int threads = 1;      // for the ITC search
};

// Text → images. `text_embedding` is the query's ITC embedding (a caption's index row, or the
// model's embedding of typed text); `image_files[r]` is the file of index image row r.
Result<RetrievalAnswer> images_for_text(const EvalModel& model, const EmbeddingIndex& index,
                                        const std::vector<std::string>& image_files,
                                        const std::string& text,
                                        const std::vector<float>& text_embedding,
                                        const QueryOptions& options);

// Image → texts. `texts[r]` is the text of index caption row r.
Result<RetrievalAnswer> texts_for_image(const EvalModel& model, const EmbeddingIndex& index,
                                        const std::vector<std::string>& texts,
                                        const std::string& image_file,
                                        const std::vector<float>& image_embedding,
                                        const QueryOptions& options);

// R@1/5/10 of a labelled split (project_labelled_images_with_ids) with the index's embeddings,
// and each query's rank, for listing the misses.
struct SplitRetrieval {
  RetrievalEvaluation summary;
  std::vector<int64_t> image_rows;    // per evaluated image, its index row
  std::vector<int64_t> caption_rows;  // per evaluated text (data order), its index row
  eval::QueryRanks itc_ranks;         // image_to_text per evaluated image, text_to_image per text
  eval::QueryRanks reranked_ranks;
};
// kInvalid when the split has an image or caption the index does not cover (rebuild the index).
Result<SplitRetrieval> evaluate_split(const EvalModel& model, const EmbeddingIndex& index,
                                      const ProjectItems& items,
                                      const LabelledProjectImages& split, int k,
                                      const EvalRunOptions& options = {});

}  // namespace capfilt::core
