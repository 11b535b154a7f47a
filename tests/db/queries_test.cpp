// The browsing queries: filtered, sorted pages with totals, decision counts, score histograms.

#include "db/db_test_support.h"

namespace capfilt::db {
namespace {

using test::FakeClock;
using test::ids;
using test::image;
using test::ScratchDir;
using V = std::vector<int64_t>;

// Six captions on four images; a filter model scored all but caption 6.
class QueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = test::open_or_die(dir_.file("p.capfilt"), &clock_);
    ASSERT_TRUE(project_);
    ASSERT_TRUE(project_
                    ->insert_pairs(
                        {image("a.jpg", "train",
                               {{"a red circle", CaptionSource::kWeb, 0},
                                {"a red circle on grass", CaptionSource::kSynthetic, 0}}),
                         image("b.jpg", "train",
                               {{"a blue square", CaptionSource::kWeb, 0},
                                {"my favourite photo", CaptionSource::kWeb, 0}}),
                         image("c.jpg", "val", {{"two green triangles", CaptionSource::kHuman, 0}}),
                         image("d.jpg", "test", {{"a red square", CaptionSource::kWeb, 0}})})
                    .is_ok());
    ModelRecord filter;
    filter.name = "filter";
    model_ = project_->add_model(filter).value();
    ASSERT_TRUE(project_
                    ->put_scores({{1, model_, 0.9, 0.4},
                                  {2, model_, 0.8, 0.35},
                                  {3, model_, 0.2, 0.1},
                                  {4, model_, 0.05, 0.02},
                                  {5, model_, 0.95, 0.5}})
                    .is_ok());
    decide(1, Decision::kKeep, DecisionOrigin::kCurator);
    decide(4, Decision::kDrop, DecisionOrigin::kAuto);
    decide(3, Decision::kDrop, DecisionOrigin::kCurator);
    ASSERT_EQ(project_->undo("ann").value(), 1);  // caption 3 is undecided again
  }

  void decide(int64_t caption, Decision d, DecisionOrigin origin) {
    clock_.advance(1000);
    ASSERT_TRUE(project_->decide({{caption, d, origin, "ann", ""}}).is_ok());
  }

  Page page(const PageRequest& request) {
    auto result = project_->page(request);
    EXPECT_TRUE(result.is_ok()) << result.status().message();
    return result.is_ok() ? result.value() : Page{};
  }

  Page filtered(const PairFilter& filter) {
    PageRequest request;
    request.filter = filter;
    return page(request);
  }

  ScratchDir dir_;
  FakeClock clock_;
  std::unique_ptr<Project> project_;
  int64_t model_ = 0;
};

TEST_F(QueriesTest, AnUnfilteredPageListsEveryPairWithItsScores) {
  Page all = page({});
  EXPECT_EQ(all.total, 6);
  EXPECT_EQ(ids(all), V({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(all.rows[0].image.path, "a.jpg");
  EXPECT_EQ(all.rows[0].decision, Decision::kKeep);
  ASSERT_TRUE(all.rows[0].itm.has_value());
  EXPECT_DOUBLE_EQ(*all.rows[0].itm, 0.9);
  EXPECT_DOUBLE_EQ(*all.rows[0].itc, 0.4);
  EXPECT_FALSE(all.rows[5].itm.has_value());  // caption 6 was never scored
}

TEST_F(QueriesTest, FiltersByCurrentDecision) {
  PairFilter f;
  f.decisions = {Decision::kUndecided};
  EXPECT_EQ(ids(filtered(f)), V({2, 3, 5, 6}));
  f.decisions = {Decision::kKeep};
  EXPECT_EQ(ids(filtered(f)), V({1}));
  f.decisions = {Decision::kKeep, Decision::kDrop};
  EXPECT_EQ(ids(filtered(f)), V({1, 4}));
}

TEST_F(QueriesTest, FiltersByScoreRanges) {
  PairFilter f;
  f.itm_min = 0.5;
  Page high = filtered(f);
  EXPECT_EQ(ids(high), V({1, 2, 5}));
  EXPECT_EQ(high.total, 3);
  f = {};
  f.itc_max = 0.1;
  EXPECT_EQ(ids(filtered(f)), V({3, 4}));
  f.itm_min = 0.1;
  EXPECT_EQ(ids(filtered(f)), V({3}));
  f = {};
  f.sources = {CaptionSource::kWeb};
  f.itm_min = 0.1;
  Page web = filtered(f);  // counted from the scores alone
  EXPECT_EQ(ids(web), V({1, 3}));
  EXPECT_EQ(web.total, 2);
}

TEST_F(QueriesTest, FiltersBySourceAndSplit) {
  PairFilter f;
  f.sources = {CaptionSource::kSynthetic};
  EXPECT_EQ(ids(filtered(f)), V({2}));
  f.sources = {CaptionSource::kHuman, CaptionSource::kSynthetic};
  EXPECT_EQ(ids(filtered(f)), V({2, 5}));
  f = {};
  f.split = "train";
  EXPECT_EQ(ids(filtered(f)), V({1, 2, 3, 4}));
  f.split = "test";
  EXPECT_EQ(ids(filtered(f)), V({6}));
}

TEST_F(QueriesTest, SearchesCaptionText) {
  PairFilter f;
  f.text_query = "red";
  EXPECT_EQ(ids(filtered(f)), V({1, 2, 6}));
  f.text_query = "red AND square";
  EXPECT_EQ(ids(filtered(f)), V({6}));
  f.text_query = "triang*";
  EXPECT_EQ(ids(filtered(f)), V({5}));
  f.text_query = "AND (";
  auto bad = project_->page({f});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalid);
  EXPECT_NE(bad.status().message().find("cannot search for"), std::string::npos);
}

TEST_F(QueriesTest, SearchFollowsNewCaptions) {
  ASSERT_TRUE(
      project_->insert_pairs({image("e.jpg", "", {{"a purple star", CaptionSource::kWeb, 0}})})
          .is_ok());
  PairFilter f;
  f.text_query = "purple";
  EXPECT_EQ(ids(filtered(f)), V({7}));
}

TEST_F(QueriesTest, SortsByScoreListingScoredPairs) {
  PageRequest request;
  request.sort = PairSort::kItm;
  request.descending = true;
  Page by_itm = page(request);
  EXPECT_EQ(ids(by_itm), V({5, 1, 2, 3, 4}));
  EXPECT_EQ(by_itm.total, 5);
  request.sort = PairSort::kItc;
  request.descending = false;
  EXPECT_EQ(ids(page(request)), V({4, 3, 2, 1, 5}));
}

TEST_F(QueriesTest, SortsByPathAndDecisionTime) {
  PageRequest request;
  request.sort = PairSort::kPath;
  request.descending = true;
  EXPECT_EQ(ids(page(request)), V({6, 5, 4, 3, 2, 1}));
  request.sort = PairSort::kDecidedTime;
  request.filter.decisions = {Decision::kKeep, Decision::kDrop};
  EXPECT_EQ(ids(page(request)), V({4, 1}));
}

TEST_F(QueriesTest, PagesThroughWithAStableTotal) {
  PageRequest request;
  request.sort = PairSort::kItm;
  request.descending = true;
  request.limit = 2;
  request.offset = 2;
  Page second = page(request);
  EXPECT_EQ(ids(second), V({2, 3}));
  EXPECT_EQ(second.total, 5);
  request.offset = 4;
  EXPECT_EQ(ids(page(request)), V({4}));
  request.offset = 10;
  Page past_end = page(request);
  EXPECT_TRUE(past_end.rows.empty());
  EXPECT_EQ(past_end.total, 5);
}

TEST_F(QueriesTest, CombinesFiltersWithASort) {
  PageRequest request;
  request.filter.sources = {CaptionSource::kWeb};
  request.filter.decisions = {Decision::kUndecided, Decision::kKeep};
  request.filter.split = "train";
  request.sort = PairSort::kItm;
  request.descending = true;
  Page p = page(request);
  EXPECT_EQ(ids(p), V({1, 3}));
  EXPECT_EQ(p.total, 2);
}

TEST_F(QueriesTest, ScoresOfAChosenModel) {
  ModelRecord other;
  other.name = "filter-2";
  const int64_t second = project_->add_model(other).value();
  ASSERT_TRUE(project_->put_scores({{6, second, 0.7, 0.3}}).is_ok());
  PairFilter f;
  f.itm_min = 0.0;
  EXPECT_EQ(ids(filtered(f)), V({6}));  // default: the newest model with scores
  f.score_model_id = model_;
  EXPECT_EQ(ids(filtered(f)), V({1, 2, 3, 4, 5}));
}

TEST_F(QueriesTest, CountsPerDecisionState) {
  auto counts = project_->decision_counts();
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts->keep, 1);
  EXPECT_EQ(counts->drop, 1);
  EXPECT_EQ(counts->undecided, 4);
}

TEST_F(QueriesTest, HistogramsItmPerSource) {
  auto histograms = project_->itm_histogram(10);
  ASSERT_TRUE(histograms.is_ok()) << histograms.status().message();
  ASSERT_EQ(histograms->size(), 3u);
  const ScoreHistogram& web = (*histograms)[0];
  EXPECT_EQ(web.source, CaptionSource::kWeb);
  EXPECT_EQ(web.counts, std::vector<int64_t>({1, 0, 1, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ((*histograms)[1].source, CaptionSource::kSynthetic);
  EXPECT_EQ((*histograms)[1].counts[8], 1);
  EXPECT_EQ((*histograms)[2].source, CaptionSource::kHuman);
  EXPECT_EQ((*histograms)[2].counts[9], 1);
  EXPECT_EQ(project_->itm_histogram(0).status().code(), Status::Code::kInvalid);
}

TEST_F(QueriesTest, HistogramEdgesFallInTheEndBins) {
  ModelRecord other;
  const int64_t second = project_->add_model(other).value();
  ASSERT_TRUE(project_->put_scores({{1, second, 0.0, 0}, {3, second, 1.0, 0}, {4, second, 0.5, 0}})
                  .is_ok());
  auto histograms = project_->itm_histogram(4, second);
  ASSERT_TRUE(histograms.is_ok());
  ASSERT_EQ(histograms->size(), 1u);  // only web captions have this model's scores
  EXPECT_EQ((*histograms)[0].counts, std::vector<int64_t>({1, 0, 1, 1}));
}

}  // namespace
}  // namespace capfilt::db
