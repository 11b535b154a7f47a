// The evaluation metrics against hand computations (each expected value is worked out in the
// comments beside it) and against a published example.

#include "core/eval_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_paths.h"

namespace capfilt::core::eval {
namespace {

using Words = std::vector<std::string>;

CaptionSample sample(const std::string& candidate, const std::vector<std::string>& references) {
  CaptionSample s;
  s.candidate = tokenize_caption(candidate);
  for (const auto& r : references) s.references.push_back(tokenize_caption(r));
  return s;
}

// ---- Tokenizer
// -----------------------------------------------------------------------------------

TEST(CaptionTokenizer, LowerCasesAndDropsPunctuation) {
  EXPECT_EQ(tokenize_caption("A Red circle, on the LEFT."),
            (Words{"a", "red", "circle", "on", "the", "left"}));
  EXPECT_EQ(tokenize_caption("  (two)  shapes: \"stars\"!? "), (Words{"two", "shapes", "stars"}));
  EXPECT_EQ(tokenize_caption("wait... -- yes - no"), (Words{"wait", "yes", "no"}));
  EXPECT_TRUE(tokenize_caption("").empty());
  EXPECT_TRUE(tokenize_caption(" .,;: ").empty());
}

TEST(CaptionTokenizer, KeepsNumbersHyphensAndSymbols) {
  EXPECT_EQ(tokenize_caption("3.5 by 1,000 t-shirts"), (Words{"3.5", "by", "1,000", "t-shirts"}));
  EXPECT_EQ(tokenize_caption("u.s. flag"), (Words{"u.s", "flag"}));
  EXPECT_EQ(tokenize_caption("50% off & free"), (Words{"50", "%", "off", "&", "free"}));
}

TEST(CaptionTokenizer, SplitsCliticsAsPtb) {
  EXPECT_EQ(tokenize_caption("the dog's ball"), (Words{"the", "dog", "'s", "ball"}));
  EXPECT_EQ(tokenize_caption("don't, can't"), (Words{"do", "n't", "ca", "n't"}));
  EXPECT_EQ(tokenize_caption("they're here, we'll see"),
            (Words{"they", "'re", "here", "we", "'ll", "see"}));
  EXPECT_EQ(tokenize_caption("'quoted' rock'n'roll"), (Words{"quoted", "rock", "n", "roll"}));
}

// ---- BLEU
// ----------------------------------------------------------------------------------------

TEST(Bleu, OneSentenceByHand) {
  // candidate: a red circle on a white background (7 words); closest reference: 7 words, BP = 1.
  // 1-grams: a×2 red circle on white background, all but "white" in ref 1 (a twice): 6/7.
  // 2-grams: a red, red circle, circle on, on a match ref 1; a white, white background do not: 4/6.
  // 3-grams: a red circle, red circle on, circle on a: 3/5.  4-grams: a red circle on,
  // red circle on a: 2/4.
  const BleuScore b =
      corpus_bleu({sample("a red circle on a white background",
                          {"a red circle on a black background", "a small red circle"})});
  EXPECT_NEAR(b.precision[0], 6.0 / 7, 1e-9);
  EXPECT_NEAR(b.precision[1], 4.0 / 6, 1e-9);
  EXPECT_NEAR(b.precision[2], 3.0 / 5, 1e-9);
  EXPECT_NEAR(b.precision[3], 2.0 / 4, 1e-9);
  // c = r: the scorer's ratio (c + 1e-15) / (r + 1e-9) is a hair below 1, so BP = 1 - 1.4e-10.
  EXPECT_NEAR(b.brevity_penalty, 1.0, 1e-9);
  EXPECT_NEAR(b.bleu[0], 6.0 / 7, 1e-9);
  EXPECT_NEAR(b.bleu[3], std::pow(6.0 / 7 * 4.0 / 6 * 3.0 / 5 * 2.0 / 4, 0.25), 1e-9);
  EXPECT_NEAR(b.bleu[3], 0.643459, 1e-6);
}

TEST(Bleu, CorpusCountsAndBrevityPenalty) {
  // Second sentence "blue square" (2 words): refs of 3 and 4 words, closest 3. It adds 2/2
  // 1-grams, 1/1 2-grams and no 3- or 4-grams. Corpus: c = 7 + 2 = 9, r = 7 + 3 = 10,
  // BP = exp(1 - 10/9); p1 = 8/9, p2 = 5/7, p3 = 3/5, p4 = 2/4.
  const BleuScore b =
      corpus_bleu({sample("a red circle on a white background",
                          {"a red circle on a black background", "a small red circle"}),
                   sample("blue square", {"a blue square", "a large blue square"})});
  EXPECT_EQ(b.candidate_length, 9);
  EXPECT_EQ(b.reference_length, 10);
  const double bp = std::exp(1 - 10.0 / 9);
  EXPECT_NEAR(b.brevity_penalty, bp, 1e-9);
  EXPECT_NEAR(b.bleu[0], bp * 8.0 / 9, 1e-9);
  EXPECT_NEAR(b.bleu[1], bp * std::sqrt(8.0 / 9 * 5.0 / 7), 1e-9);
  EXPECT_NEAR(b.bleu[3], bp * std::pow(8.0 / 9 * 5.0 / 7 * 3.0 / 5 * 2.0 / 4, 0.25), 1e-9);
}

TEST(Bleu, ClipsRepeatedWordsAndPicksTheShorterOnATie) {
  // "the the the the the": the reference has "the" twice, so 2 of 5 unigrams count.
  // Reference lengths 4 and 6 are equally close to 5: the shorter (4) is used.
  const BleuScore b =
      corpus_bleu({sample("the the the the the", {"the cat on the", "the dog sat on the mat"})});
  EXPECT_NEAR(b.precision[0], 2.0 / 5, 1e-9);
  EXPECT_EQ(b.reference_length, 4);
  EXPECT_DOUBLE_EQ(b.brevity_penalty, 1.0);
}

// Seeded corpora scored by NLTK's corpus_bleu, an independent implementation of the same
// definition (tests/data/eval/make_bleu_reference.py wrote them).
TEST(Bleu, AgreesWithNltkOnSeededCorpora) {
  std::ifstream in(std::string(test::kTestDataDir) + "/eval/bleu_reference.json");
  ASSERT_TRUE(in) << "tests/data/eval/bleu_reference.json missing";
  const nlohmann::json doc = nlohmann::json::parse(in);
  ASSERT_GE(doc["cases"].size(), 6u);
  for (const auto& c : doc["cases"]) {
    std::vector<CaptionSample> samples;
    for (const auto& s : c["samples"]) {
      samples.push_back({s["candidate"].get<Words>(), s["references"].get<std::vector<Words>>()});
    }
    const BleuScore b = corpus_bleu(samples);
    for (int n = 0; n < 4; ++n)
      EXPECT_NEAR(b.bleu[n], c["bleu"][n].get<double>(), 1e-8) << "BLEU-" << n + 1;
  }
}

// ---- CIDEr-D
// -------------------------------------------------------------------------------------

TEST(CiderD, ExactMatchOfTwoWordsByHand) {
  // Two samples, so idf = log 2 - log df. Sample 1: candidate = reference = "red circle": the
  // 1-gram and 2-gram vectors are equal (cosine 1), there are no 3- or 4-grams (0), the lengths
  // are equal (penalty 1): 10 · (1 + 1 + 0 + 0) / 4 = 5. Sample 2 shares nothing: 0. Mean 2.5.
  const CiderScore c =
      cider_d({sample("red circle", {"red circle"}), sample("blue square", {"green star"})});
  ASSERT_EQ(c.per_sample.size(), 2u);
  EXPECT_NEAR(c.per_sample[0], 5.0, 1e-12);
  EXPECT_NEAR(c.per_sample[1], 0.0, 1e-12);
  EXPECT_NEAR(c.score, 2.5, 1e-12);
}

TEST(CiderD, IdfWeightsByHand) {
  // Three samples: log N = ln 3. "a" is in the references of two samples (df 2), every other
  // n-gram in one. Sample 1 "a cat" vs reference "a dog": 1-gram vectors (a: L, cat: ln 3) and
  // (a: L, dog: ln 3) with L = ln 3 - ln 2; only "a" matches: cos = L² / (L² + ln² 3). 2-grams
  // "a cat" / "a dog" differ: 0. Equal lengths. Score 10 · cos / 4. The others score 0.
  const CiderScore c =
      cider_d({sample("a cat", {"a dog"}), sample("q", {"a cat"}), sample("q", {"the bird"})});
  const double L = std::log(3.0) - std::log(2.0), l3 = std::log(3.0);
  const double expected = 10 * (L * L / (L * L + l3 * l3)) / 4;
  EXPECT_NEAR(c.per_sample[0], expected, 1e-12);
  EXPECT_NEAR(c.score, expected / 3, 1e-12);
}

TEST(CiderD, ClipsCandidateCountsAndPenalisesLength) {
  // Sample 1: "circle circle circle" vs "circle". 1-grams: candidate weight 3·ln 2, reference
  // ln 2; clipped numerator min(3 ln2, ln2)·ln2 = ln²2 over norms 3 ln2 · ln2: 1/3 (unclipped
  // cosine would be 1). 2- and 3-grams have no reference counterpart: 0. Length (in bigrams, as
  // the COCO scorer counts it) 2 vs 0: penalty exp(-2²/(2·6²)). Score 10 · (1/3)·penalty / 4.
  const CiderScore c =
      cider_d({sample("circle circle circle", {"circle"}), sample("x", {"square"})});
  const double expected = 10 * (1.0 / 3) * std::exp(-4.0 / 72) / 4;
  EXPECT_NEAR(c.per_sample[0], expected, 1e-12);
  EXPECT_NEAR(c.score, expected / 2, 1e-12);
}

TEST(CiderD, AveragesOverReferencesAndOneSampleScoresZero) {
  // Two references, one equal to the candidate and one disjoint: half the per-reference mean.
  const CiderScore two = cider_d({sample("a red circle here", {"a red circle here", "green star"}),
                                  sample("x y", {"blue square"})});
  // With the matching reference alone the first sample scores 10 (cos 1 for n = 1..4).
  const CiderScore one = cider_d({sample("a red circle here", {"a red circle here"}),
                                  sample("x y", {"blue square green star"})});
  EXPECT_NEAR(one.per_sample[0], 10.0, 1e-12);
  EXPECT_NEAR(two.per_sample[0], 5.0, 1e-12);
  EXPECT_NEAR(cider_d({sample("a red circle", {"a red circle"})}).score, 0.0, 1e-12);
}

// Seeded corpora (repeated words, 1 to 5 references, sentences shorter than 4 words) scored by a
// second, plain Python implementation of the definition (tests/data/eval/make_cider_reference.py).
TEST(CiderD, AgreesWithASecondImplementation) {
  std::ifstream in(std::string(test::kTestDataDir) + "/eval/cider_reference.json");
  ASSERT_TRUE(in) << "tests/data/eval/cider_reference.json missing";
  const nlohmann::json doc = nlohmann::json::parse(in);
  ASSERT_GE(doc["cases"].size(), 6u);
  for (const auto& c : doc["cases"]) {
    std::vector<CaptionSample> samples;
    for (const auto& s : c["samples"]) {
      samples.push_back({s["candidate"].get<Words>(), s["references"].get<std::vector<Words>>()});
    }
    const CiderScore score = cider_d(samples);
    EXPECT_NEAR(score.score, c["cider_d"].get<double>(), 1e-9);
    ASSERT_EQ(score.per_sample.size(), c["per_sample"].size());
    for (size_t i = 0; i < score.per_sample.size(); ++i) {
      EXPECT_NEAR(score.per_sample[i], c["per_sample"][i].get<double>(), 1e-9) << "sample " << i;
    }
  }
}

// The published example: the expected values of a public test of a pycocoevalcap wrapper
// (irisml-tasks-training, test/test_evaluate_captioning.py): a perfect corpus gets BLEU 1 and
// CIDEr 10 (case differences vanish in tokenisation), a corpus sharing no word gets 0 for both.
TEST(CaptionMetrics, PublishedPerfectAndWrongCorpora) {
  const std::vector<std::vector<std::string>> refs = {
      {"Hello World good Bye"}, {"This is perfect test", "This is perfect test"}};
  const std::vector<CaptionSample> perfect = {sample("Hello World Good bye", refs[0]),
                                              sample("This is perfect test", refs[1])};
  const std::vector<CaptionSample> wrong = {sample("How are you today", refs[0]),
                                            sample("Only wrong words here", refs[1])};
  const BleuScore bp = corpus_bleu(perfect), bw = corpus_bleu(wrong);
  for (int n = 0; n < 4; ++n) {
    EXPECT_NEAR(bp.bleu[n], 1.0, 1e-7);
    EXPECT_NEAR(bw.bleu[n], 0.0, 1e-7);
  }
  EXPECT_NEAR(cider_d(perfect).score, 10.0, 1e-7);
  EXPECT_NEAR(cider_d(wrong).score, 0.0, 1e-7);
}

// ---- VQA
// -----------------------------------------------------------------------------------------

TEST(VqaAnswer, NormalisedAsTheOfficialEvaluation) {
  EXPECT_EQ(normalize_vqa_answer("Two"), "2");
  EXPECT_EQ(normalize_vqa_answer(" The dog.\n"), "dog");
  EXPECT_EQ(normalize_vqa_answer("a red, ball"), "red ball");  // ", " touches a space: removed
  EXPECT_EQ(normalize_vqa_answer("t-shirt"), "t shirt");       // joins two words: a space
  EXPECT_EQ(normalize_vqa_answer("yes!"), "yes");
  EXPECT_EQ(normalize_vqa_answer("1,000"), "1000");  // a comma between digits: all removed
  EXPECT_EQ(normalize_vqa_answer("3.5"), "3.5");     // a '.' before a digit stays
  EXPECT_EQ(normalize_vqa_answer("Dont\tknow"), "don't know");
  EXPECT_EQ(normalize_vqa_answer("none"), "0");
}

TEST(VqaAccuracy, TenAnnotatorsByHand) {
  auto answers = [](int matching, const std::string& answer) {
    std::vector<std::string> a(10, "other");
    for (int i = 0; i < matching; ++i) a[static_cast<size_t>(i)] = answer;
    return a;
  };
  // k annotators gave the answer. Leaving out one of them: min(1, (k-1)/3); one of the others:
  // min(1, k/3). k = 1: (1·0 + 9·1/3)/10 = 0.3; k = 2: (2·1/3 + 8·2/3)/10 = 0.6;
  // k = 3: (3·2/3 + 7·1)/10 = 0.9; k = 4: 1.
  EXPECT_NEAR(vqa_accuracy("2", answers(0, "2")), 0.0, 1e-12);
  EXPECT_NEAR(vqa_accuracy("2", answers(1, "2")), 0.3, 1e-12);
  EXPECT_NEAR(vqa_accuracy("two", answers(2, "2")), 0.6, 1e-12);
  EXPECT_NEAR(vqa_accuracy("2", answers(3, "2 ")), 0.9, 1e-12);
  EXPECT_NEAR(vqa_accuracy("2", answers(4, "2")), 1.0, 1e-12);
  EXPECT_NEAR(vqa_accuracy("2", answers(10, "2")), 1.0, 1e-12);
}

TEST(VqaAccuracy, OneAnnotatorIsExactMatch) {
  EXPECT_EQ(vqa_accuracy("Red.", {"red"}), 1.0);
  EXPECT_EQ(vqa_accuracy("blue", {"red"}), 0.0);
  EXPECT_EQ(vqa_accuracy("blue", {}), 0.0);
}

// ---- Retrieval
// -----------------------------------------------------------------------------------

TEST(Retrieval, RecallWithSeveralCaptionsPerImage) {
  // Image 0 owns texts 0 and 1, image 1 owns text 2.
  // image→text: image 0 ranks t0 first (hit at 1); image 1 ranks t0, t2, t1: its t2 is 2nd.
  // text→image: t0 column (0.9, 0.8): image 0 first; t1 (0.1, 0.2): image 0 2nd;
  // t2 (0.5, 0.3): image 1 2nd.
  const ScoreMatrix m{2, 3, {0.9, 0.1, 0.5, 0.8, 0.2, 0.3}};
  auto r = retrieval_recall(m, {0, 0, 1});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_DOUBLE_EQ(r->image_to_text.r1, 0.5);
  EXPECT_DOUBLE_EQ(r->image_to_text.r5, 1.0);
  EXPECT_DOUBLE_EQ(r->text_to_image.r1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r->text_to_image.r5, 1.0);
}

TEST(Retrieval, RanksZeroToElevenGiveRecallAt1510) {
  // 12 images, text t of image t. Column t: images before t score 1, image t 0.5, later ones 0,
  // so image t ranks t-th. Row i: texts after i score 1 — the same matrix read by row — so text i
  // ranks (11 - i)-th. Both directions: R@1 = 1/12, R@5 = 5/12, R@10 = 10/12.
  ScoreMatrix m{12, 12, std::vector<double>(144, 0.0)};
  for (int64_t i = 0; i < 12; ++i) {
    for (int64_t t = 0; t < 12; ++t) m.at(i, t) = i < t ? 1.0 : i == t ? 0.5 : 0.0;
  }
  std::vector<int64_t> owner(12);
  for (int64_t t = 0; t < 12; ++t) owner[static_cast<size_t>(t)] = t;
  auto r = retrieval_recall(m, owner);
  ASSERT_TRUE(r);
  for (const RecallAtK& k : {r->image_to_text, r->text_to_image}) {
    EXPECT_DOUBLE_EQ(k.r1, 1.0 / 12);
    EXPECT_DOUBLE_EQ(k.r5, 5.0 / 12);
    EXPECT_DOUBLE_EQ(k.r10, 10.0 / 12);
  }
}

TEST(Retrieval, TiesAreBrokenByIndexNotInTheQuerysFavour) {
  // All scores equal: the stable order puts item j at rank j.
  const ScoreMatrix m{3, 3, std::vector<double>(9, 0.25)};
  auto r = retrieval_recall(m, {0, 1, 2});
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->image_to_text.r1, 1.0 / 3);  // only image 0's text 0 is first
  EXPECT_DOUBLE_EQ(r->text_to_image.r1, 1.0 / 3);
}

TEST(Retrieval, RejectsMismatchedSizes) {
  const ScoreMatrix m{2, 2, {1, 0, 0, 1}};
  EXPECT_FALSE(retrieval_recall(m, {0}));
  EXPECT_FALSE(retrieval_recall(m, {0, 2}));
}

TEST(Retrieval, TwoStepRerankByHand) {
  // ITC (rows images, columns texts; text t belongs to image t):
  //   image 0: 0.5 0.6 0.1   ITC alone, image→text: image 0 ranks t1, t0: its t0 2nd;
  //   image 1: 0.3 0.2 0.4   image 1: t2, t0, t1: its t1 3rd; image 2: t2 first.
  //   image 2: 0.1 0.0 0.2
  // ITM says 1 for the right pair, 0 otherwise. k = 2:
  //   image 0 re-scores t1 (0.6), t0 (1.5): t0 first. image 1 re-scores t2 (0.4), t0 (0.3); t1
  //   stays -100: 3rd. image 2 re-scores t2 (1.2), t0 (0.1): first. i2t R@1 = 2/3.
  //   t0 re-scores images 0 (1.5), 1 (0.3); t1: images 0 (0.6), 1 (1.2); t2: images 1 (0.4),
  //   2 (1.2): every text finds its image first. t2i R@1 = 1.
  // Pairs needed: i2t (0,1)(0,0)(1,2)(1,0)(2,2)(2,0) ∪ t2i (0,0)(1,0)(0,1)(1,1)(1,2)(2,2) = 7.
  const ScoreMatrix itc{3, 3, {0.5, 0.6, 0.1, 0.3, 0.2, 0.4, 0.1, 0.0, 0.2}};
  const std::vector<int64_t> owner = {0, 1, 2};
  int calls = 0;
  auto itm = [&](const std::vector<ImageTextIndex>& pairs) -> Result<std::vector<double>> {
    ++calls;
    std::vector<double> out;
    for (const auto& p : pairs) out.push_back(p.image == p.text ? 1.0 : 0.0);
    return out;
  };
  auto itc_only = retrieval_recall(itc, owner);
  ASSERT_TRUE(itc_only);
  EXPECT_DOUBLE_EQ(itc_only->image_to_text.r1, 1.0 / 3);
  auto reranked = rerank_top_k(itc, 2, itm);
  ASSERT_TRUE(reranked) << reranked.status().message();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reranked->pairs_scored, 7);
  EXPECT_DOUBLE_EQ(reranked->image_to_text.at(0, 0), 1.5);
  EXPECT_DOUBLE_EQ(reranked->image_to_text.at(1, 1), -100.0);
  EXPECT_DOUBLE_EQ(reranked->text_to_image.at(1, 1), 1.2);
  auto r = reranked_recall(reranked.value(), owner);
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->image_to_text.r1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r->text_to_image.r1, 1.0);
  EXPECT_DOUBLE_EQ(r->image_to_text.r5, 1.0);
}

TEST(Retrieval, RerankPassesScorerFailuresAndClampsK) {
  const ScoreMatrix itc{2, 2, {1, 0, 0, 1}};
  auto failing = [](const std::vector<ImageTextIndex>&) -> Result<std::vector<double>> {
    return Status::io_error("image a.png could not be decoded");
  };
  auto r = rerank_top_k(itc, 128, failing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(), "image a.png could not be decoded");
  auto all = rerank_top_k(itc, 128,
                          [](const std::vector<ImageTextIndex>& p) -> Result<std::vector<double>> {
                            return std::vector<double>(p.size(), 0.0);
                          });
  ASSERT_TRUE(all);
  EXPECT_EQ(all->pairs_scored, 4);  // k clamped to 2: every pair
  EXPECT_FALSE(rerank_top_k(itc, 0, failing));
}

// ---- Binary classification
// -----------------------------------------------------------------------

TEST(BinaryMetrics, PrecisionRecallF1ByHand) {
  // predicted 1 1 1 0 0 0, actual 1 0 1 1 0 0: tp 2, fp 1, fn 1, tn 2.
  const BinaryCounts c =
      confusion({true, true, true, false, false, false}, {true, false, true, true, false, false});
  EXPECT_EQ(c.true_positive, 2);
  EXPECT_EQ(c.false_positive, 1);
  EXPECT_EQ(c.false_negative, 1);
  EXPECT_EQ(c.true_negative, 2);
  EXPECT_DOUBLE_EQ(c.precision(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.recall(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.f1(), 2.0 / 3);
  EXPECT_EQ(BinaryCounts{}.f1(), 0.0);
}

TEST(BinaryMetrics, RocAucWithTies) {
  // Every (positive, negative) pair: 0.35 > 0.1, 0.35 < 0.4, 0.8 > both: 3/4.
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  // Scores 1 2 2 3, positives at 2 and 3: (2 vs 1) 1, (2 vs 2) 1/2, (3 vs 1) 1, (3 vs 2) 1: 3.5/4.
  EXPECT_DOUBLE_EQ(roc_auc({1, 2, 2, 3}, {false, true, false, true}), 0.875);
  EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.5, 0.5, 0.5}, {true, false, true, false}), 0.5);
  EXPECT_DOUBLE_EQ(roc_auc({0.9, 0.1}, {false, true}), 0.0);
  EXPECT_TRUE(std::isnan(roc_auc({0.1, 0.2}, {true, true})));
}

TEST(BinaryMetrics, BestF1ThresholdByHand) {
  // Scores 0.1 0.2 0.3 0.6 0.9 with positives (drop) at 0.1, 0.2, 0.6. Cutting below
  //   0.1: F1 1/2; 0.2: P 1, R 2/3: 0.8; 0.3: 2/3; 0.6: P 3/4, R 1: 6/7; 0.9: P 3/5, R 1: 3/4.
  // Best: positive up to 0.6, threshold halfway to 0.9 = 0.75.
  const ThresholdChoice t =
      best_f1_threshold_below({0.9, 0.2, 0.6, 0.1, 0.3}, {false, true, true, true, false});
  EXPECT_DOUBLE_EQ(t.threshold, 0.75);
  EXPECT_EQ(t.counts.true_positive, 3);
  EXPECT_EQ(t.counts.false_positive, 1);
  EXPECT_NEAR(t.counts.f1(), 6.0 / 7, 1e-12);
  // Tied scores move together; everything positive puts the threshold just above the top.
  const ThresholdChoice all = best_f1_threshold_below({0.4, 0.4}, {true, true});
  EXPECT_GT(all.threshold, 0.4);
  EXPECT_EQ(all.counts.true_positive, 2);
  EXPECT_EQ(best_f1_threshold_below({0.4}, {false}).counts.true_negative, 1);
}

}  // namespace
}  // namespace capfilt::core::eval
