#pragma once
// The evaluation metrics of BLIP's benchmarks as pure functions: captioning (BLEU-4, CIDEr-D),
// VQA accuracy, image-text retrieval recall (with BLIP's ITC-then-ITM re-ranking expressed over a
// callback), and the binary classification figures of a filter against noise labels.
// Torch-free, model-free and thread-safe (no state); every function is checked against hand
// computations in tests/core/eval_metrics_test.cpp.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "db/status.h"

namespace capfilt::core::eval {

// ---- Caption text
// --------------------------------------------------------------------------------

// Splits a caption into lower-case words as the COCO caption evaluation does, approximately: COCO
// runs the Stanford PTB tokenizer and then drops punctuation tokens. Here:
// - lower-case (ASCII);
// - punctuation . , ? ! ; : " ` ( ) [ ] { } and '...' / '--' / a lone '-' separate words and are
//   dropped; a '.' or ',' between two digits ("3.5", "1,000") and a '-' or '.' inside a word
//   ("t-shirt", "u.s") stay part of it;
// - clitics are split off as PTB does: "dog's" -> "dog 's", "don't" -> "do n't", and 're 've 'll
//   'd 'm; any other apostrophe is dropped;
// - other symbols (# $ % & * + / < = > @ ^ | ~) become tokens of their own and are kept.
std::vector<std::string> tokenize_caption(const std::string& text);

// One candidate caption and its references, already tokenised.
struct CaptionSample {
  std::vector<std::string> candidate;
  std::vector<std::vector<std::string>> references;
};

// Corpus BLEU as pycocoevalcap's scorer computes it: clipped n-gram matches and candidate n-gram
// counts summed over the corpus; per sentence the effective reference length is the reference
// length closest to the candidate's (the shorter on a tie), summed; brevity penalty
// exp(1 - r/c) when c < r; BLEU-n = BP · (p1 · … · pn)^(1/n) with pk = (matches + 1e-15) /
// (count + 1e-9) (the scorer's smoothing, which only keeps log(0) away).
struct BleuScore {
  double bleu[4] = {0, 0, 0, 0};       // BLEU-1 … BLEU-4
  double precision[4] = {0, 0, 0, 0};  // modified n-gram precisions p1 … p4
  double brevity_penalty = 1;
  int64_t candidate_length = 0;  // c
  int64_t reference_length = 0;  // r (effective)
};
BleuScore corpus_bleu(const std::vector<CaptionSample>& samples);

// CIDEr-D (Vedantam et al., 2015; the "CIDEr" of the COCO caption evaluation): TF-IDF vectors of
// n-grams n = 1..4 with document frequencies counted over the references of all samples (an
// n-gram's document frequency is the number of samples whose references contain it; idf =
// log(samples) - log(max(1, df))), the candidate's weights clipped by each reference's
// (min(cand, ref) · ref), a Gaussian penalty exp(-(len_c - len_r)² / (2σ²)), σ = 6, on the length
// difference in words, averaged over n and over references, times 10. `score` is the mean over
// samples, `per_sample` each sample's. One sample alone scores 0 (every idf is log 1 = 0), as in
// the reference implementation.
struct CiderScore {
  double score = 0;
  std::vector<double> per_sample;
};
CiderScore cider_d(const std::vector<CaptionSample>& samples, double sigma = 6.0);

// ---- VQA
// -----------------------------------------------------------------------------------------

// An answer normalised as the official VQA evaluation (vqaEval.py) does: new lines and tabs to
// spaces, trimmed; punctuation removed (or replaced by a space where it joins two words without
// spaces around it; removed everywhere when the text has a comma between digits); a '.' not
// followed by a digit removed; lower-case; number words zero..ten (and "none") to digits; the
// articles a, an, the removed; common contractions written without the apostrophe ("dont") given
// it back ("don't").
std::string normalize_vqa_answer(const std::string& answer);

// The VQA accuracy of `answer` against the annotators' answers: for each annotator left out,
// min(1, #other annotators who gave the answer / 3), averaged over the annotators (with 10
// answers, the average over the 10 subsets of 9, as the official evaluation). Answers are compared
// after normalize_vqa_answer. The official script normalises only when the annotators disagree;
// we always do, since our files are not pre-normalised like VQA v2's. With a single annotator
// (as the demo data's questions) the accuracy is the exact match, 0 or 1; with none it is 0.
double vqa_accuracy(const std::string& answer, const std::vector<std::string>& annotator_answers);

// ---- Retrieval
// -----------------------------------------------------------------------------------

// A dense row-major matrix of scores: rows are images, columns texts.
struct ScoreMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values;  // rows × cols
  double at(int64_t r, int64_t c) const { return values[static_cast<size_t>(r * cols + c)]; }
  double& at(int64_t r, int64_t c) { return values[static_cast<size_t>(r * cols + c)]; }
};

// Cosine similarity matrix of L2-normalised embeddings (plain dot products).
ScoreMatrix dot_products(const std::vector<std::vector<float>>& image_embeddings,
                         const std::vector<std::vector<float>>& text_embeddings);

struct RecallAtK {
  double r1 = 0, r5 = 0, r10 = 0;  // fractions in [0, 1]
  double mean() const { return (r1 + r5 + r10) / 3; }
};
struct RetrievalRecall {
  RecallAtK image_to_text;  // per image: is one of its captions among the top K texts?
  RecallAtK text_to_image;  // per text: is its image among the top K images?
};

// Each query's rank (0 = first) of its best correct item, the rank the recalls below count:
// image→text from `image_to_text` (per image, its best-ranked text; -1 for an image without
// texts, which is not a query), text→image from `text_to_image` (per text, its image's rank).
struct QueryRanks {
  std::vector<int64_t> image_to_text;
  std::vector<int64_t> text_to_image;
};
Result<QueryRanks> query_ranks(const ScoreMatrix& image_to_text, const ScoreMatrix& text_to_image,
                               const std::vector<int64_t>& text_image);
// The fraction of queries (ranks ≥ 0) with rank < 1, 5, 10.
RecallAtK recall_of(const std::vector<int64_t>& ranks);

// R@1/5/10 both ways, as BLIP's evaluation computes them. `text_image[t]` is the image (row) of
// text (column) t; an image may have several texts. Rank of a query: the best position of a
// correct item in the scores sorted descending; a tie is resolved by index (a stable sort), never
// in the query's favour beyond that. kInvalid when the sizes do not agree.
Result<RetrievalRecall> retrieval_recall(const ScoreMatrix& scores,
                                         const std::vector<int64_t>& text_image);

// BLIP's two-step inference. For each image, the k texts with the highest ITC similarity are
// re-scored, and for each text the k images likewise (k is clamped to the candidates there are);
// a re-scored pair gets itm + itc, every other pair -100 (so it ranks after the candidates). BLIP
// adds the ITM head's match logit; our facade gives the match probability, used here as `itm`.
// `itm` receives each (image, text) pair needed once (the union of both directions) and returns
// their scores in order; its failure is returned. Returns the image→text matrix; the text→image
// one is its own (the scores differ only outside the top k of each direction), so two matrices.
struct RerankedScores {
  ScoreMatrix image_to_text;
  ScoreMatrix text_to_image;  // still rows = images, cols = texts
  int64_t pairs_scored = 0;
};
struct ImageTextIndex {
  int64_t image = 0;
  int64_t text = 0;
};
// The two-step score of a re-ranked pair (the only place it is defined).
inline double reranked_score(double itm, double itc) { return itm + itc; }

// Indices of the k highest of n scores, best first, ties by the lower index: the candidates
// rerank_top_k re-scores.
std::vector<int64_t> top_k(int64_t n, int k, const std::function<double(int64_t)>& score);

// One query's re-ranked candidate (an image of a text query, or a text of an image query).
struct Candidate {
  int64_t index = 0;  // the row (image) or column (text) in the score matrix
  double itc = 0;
  double itm = 0;
  double score = 0;   // reranked_score(itm, itc)
};
// Sets each score and sorts best first, ties by index: the order rerank_top_k's matrices rank a
// query's candidates in (every other item scores -100, after them).
std::vector<Candidate> rerank_candidates(std::vector<Candidate> candidates);

using PairScorer = std::function<Result<std::vector<double>>(const std::vector<ImageTextIndex>&)>;
Result<RerankedScores> rerank_top_k(const ScoreMatrix& itc, int k, const PairScorer& itm);

// Recall of the two-step scores: image→text from the first matrix, text→image from the second.
Result<RetrievalRecall> reranked_recall(const RerankedScores& scores,
                                        const std::vector<int64_t>& text_image);

// ---- Binary classification (the filter's drop decisions against noise labels) -------------------

struct BinaryCounts {
  int64_t true_positive = 0, false_positive = 0, false_negative = 0, true_negative = 0;
  double precision() const;  // 0 when nothing was predicted positive
  double recall() const;     // 0 when there are no positives
  double f1() const;         // 0 when precision + recall = 0
};
// `predicted[i]` against `actual[i]` (true = positive, here "noisy: drop it").
BinaryCounts confusion(const std::vector<bool>& predicted, const std::vector<bool>& actual);

// ROC-AUC: the probability that a positive scores above a negative, ties counted as half
// (the Mann-Whitney statistic, exact with tied scores). NaN when either class is empty.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

// The threshold t of the rule "positive when score < t" (the filter drops a caption whose ITM is
// below t) that maximises F1, over every distinct cut of the scores; t lies halfway between the
// last score predicted positive and the next one (above the highest when all are). Ties of F1 go
// to the smaller threshold. With no positive label, threshold is -inf and counts all negative.
struct ThresholdChoice {
  double threshold = 0;
  BinaryCounts counts;
};
ThresholdChoice best_f1_threshold_below(const std::vector<double>& scores,
                                        const std::vector<bool>& positive);

}  // namespace capfilt::core::eval
