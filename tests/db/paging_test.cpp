// Seek (keyset) paging, positions and counts: the same rows as offset paging in every order and
// filter, ties broken by caption id, and counters that stay right through every kind of write.

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "db/db_test_support.h"

namespace capfilt::db {
namespace {

using test::FakeClock;
using test::ScratchDir;
using V = std::vector<int64_t>;

V ids_of(const Result<Page>& page) {
  EXPECT_TRUE(page.is_ok()) << page.status().message();
  V out;
  if (page.is_ok())
    for (const PairRow& row : page->rows) out.push_back(row.caption_id);
  return out;
}

const char* const kWords[] = {"red", "blue", "circle", "square", "dog", "cat"};

// 120 images with 2 or 3 captions each (web, synthetic, sometimes human). Scores come in steps of
// 0.1 so many rows tie; every seventh caption is not scored; decisions of every kind, some undone.
class PagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = test::open_or_die(dir_.file("p.capfilt"), &clock_);
    ASSERT_TRUE(project_);
    std::vector<ImageWithCaptions> batch;
    for (int k = 0; k < 120; ++k) {
      std::vector<CaptionRecord> captions = {
          {std::string("a ") + kWords[k % 6] + " " + kWords[(k / 6) % 6] + " " + std::to_string(k),
           CaptionSource::kWeb, 0},
          {std::string("the ") + kWords[(k + 1) % 6] + " photo " + std::to_string(k),
           CaptionSource::kSynthetic, 0}};
      if (k % 4 == 0) captions.push_back({"human " + std::string(kWords[k % 6]) + " " + std::to_string(k), CaptionSource::kHuman, 0});
      // Paths in an order unlike the ids, with a split of three.
      batch.push_back(test::image("img/" + std::to_string((k * 37) % 120) + ".jpg",
                                  k % 3 == 0 ? "val" : "train", captions));
    }
    auto added = project_->insert_pairs(batch);
    ASSERT_TRUE(added.is_ok()) << added.status().message();
    captions_ = added->captions_added;
    ModelRecord filter;
    filter.name = "filter";
    model_ = project_->add_model(filter).value();
    std::vector<Score> scores;
    for (int64_t id = 1; id <= captions_; ++id) {
      if (id % 7 == 0) continue;
      scores.push_back({id, model_, static_cast<double>((id * 13) % 11) / 10.0,
                        static_cast<double>((id * 5) % 6) / 10.0});
    }
    ASSERT_TRUE(project_->put_scores(scores).is_ok());
    for (int64_t id = 1; id <= captions_; id += 3) {
      clock_.advance(id % 2 ? 0 : 1000);  // equal decision times too
      ASSERT_TRUE(project_->decide({{id, id % 2 ? Decision::kKeep : Decision::kDrop,
                                      id % 5 ? DecisionOrigin::kAuto : DecisionOrigin::kCurator,
                                      "ann", ""}})
                      .is_ok());
    }
    ASSERT_TRUE(project_->undo("ann", 3).is_ok());
  }

  // Every pair with its scores, by caption id: what the expectations are computed from.
  std::vector<PairRow> everything() {
    PageRequest all;
    all.limit = 1'000'000;
    auto page = project_->page(all);
    EXPECT_TRUE(page.is_ok()) << page.status().message();
    return page.is_ok() ? page->rows : std::vector<PairRow>{};
  }

  // The ids the request should list, computed here from the rows (no SQL).
  std::vector<int64_t> expected(const PageRequest& r, const std::set<int64_t>& text_matches) {
    const PairFilter& f = r.filter;
    const bool scored = f.itm_min || f.itm_max || f.itc_min || f.itc_max ||
                        r.sort == PairSort::kItm || r.sort == PairSort::kItc;
    std::vector<PairRow> rows;
    for (const PairRow& row : everything()) {
      auto in = [](const auto& list, auto v) {
        return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
      };
      if (!in(f.decisions, row.decision) || !in(f.sources, row.caption.source)) continue;
      if (!f.split.empty() && row.image.split != f.split) continue;
      if (scored && !row.itm) continue;
      if (f.itm_min && *row.itm < *f.itm_min) continue;
      if (f.itm_max && *row.itm > *f.itm_max) continue;
      if (f.itc_min && *row.itc < *f.itc_min) continue;
      if (f.itc_max && *row.itc > *f.itc_max) continue;
      if (!f.text_query.empty() && !text_matches.count(row.caption_id)) continue;
      rows.push_back(row);
    }
    auto key = [&](const PairRow& row) {
      SortKey k = sort_key(row, r.sort);
      return std::make_tuple(k.number, k.text, k.caption_id);
    };
    std::sort(rows.begin(), rows.end(), [&](const PairRow& a, const PairRow& b) {
      return r.descending ? key(b) < key(a) : key(a) < key(b);
    });
    V ids;
    for (const PairRow& row : rows) ids.push_back(row.caption_id);
    return ids;
  }

  // The whole list by seek pages of `size`.
  V by_seek(PageRequest r, int64_t size) {
    r.limit = size;
    r.with_total = false;
    V ids;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = project_->page(r);
      EXPECT_TRUE(page.is_ok()) << page.status().message();
      if (!page.is_ok()) break;
      EXPECT_EQ(page->total, -1);
      for (const PairRow& row : page->rows) ids.push_back(row.caption_id);
      if (static_cast<int64_t>(page->rows.size()) < size) break;
      r.after = sort_key(page->rows.back(), r.sort);
    }
    return ids;
  }

  V by_offset(PageRequest r, int64_t size, bool with_total) {
    r.limit = size;
    r.with_total = with_total;
    V ids;
    for (r.offset = 0;; r.offset += size) {
      auto page = project_->page(r);
      EXPECT_TRUE(page.is_ok()) << page.status().message();
      if (!page.is_ok() || page->rows.empty()) break;
      for (const PairRow& row : page->rows) ids.push_back(row.caption_id);
    }
    return ids;
  }

  std::vector<PairFilter> filters() {
    std::vector<PairFilter> out(10);
    out[1].decisions = {Decision::kUndecided};
    out[1].sources = {CaptionSource::kWeb};
    out[2].decisions = {Decision::kKeep, Decision::kDrop};
    out[3].sources = {CaptionSource::kSynthetic, CaptionSource::kHuman};
    out[4].split = "val";
    out[4].decisions = {Decision::kUndecided, Decision::kDrop};
    out[5].itm_min = 0.3;
    out[5].itm_max = 0.7;
    out[6].itc_max = 0.2;
    out[6].sources = {CaptionSource::kWeb};
    out[7].text_query = "red OR dog";
    out[8].text_query = "circle OR cat";
    out[8].decisions = {Decision::kUndecided};
    out[8].split = "train";
    out[9].text_query = "human";  // few matches: listed and sorted, not walked in key order
    out[9].sources = {CaptionSource::kHuman, CaptionSource::kWeb};
    return out;
  }

  // The captions an FTS5 query of words joined by OR matches, computed here from the texts.
  std::set<int64_t> matches(const std::string& query) {
    std::set<std::string> words;
    std::istringstream in(query);
    for (std::string w; in >> w;)
      if (w != "OR") words.insert(w);
    std::set<int64_t> ids;
    for (const PairRow& row : everything()) {
      std::istringstream text(row.caption.text);
      for (std::string w; text >> w;)
        if (words.count(w)) ids.insert(row.caption_id);
    }
    return ids;
  }

  ScratchDir dir_;
  FakeClock clock_;
  std::unique_ptr<Project> project_;
  int64_t model_ = 0;
  int64_t captions_ = 0;
};

const PairSort kSorts[] = {PairSort::kCaptionId, PairSort::kItm, PairSort::kItc, PairSort::kPath,
                           PairSort::kDecidedTime};

TEST_F(PagingTest, SeekAndOffsetPagesListTheSameRowsInEveryOrderAndFilter) {
  int checked = 0;
  for (const PairFilter& filter : filters()) {
    std::set<int64_t> text;
    if (!filter.text_query.empty()) {
      text = matches(filter.text_query);
      ASSERT_FALSE(text.empty());
    }
    for (PairSort sort : kSorts) {
      for (bool descending : {false, true}) {
        PageRequest r;
        r.filter = filter;
        r.sort = sort;
        r.descending = descending;
        const V want = expected(r, text);
        SCOPED_TRACE(::testing::Message() << "filter " << checked / 10 << " sort "
                                          << static_cast<int>(sort) << " desc " << descending);
        ASSERT_FALSE(want.empty());
        EXPECT_EQ(by_seek(r, 7), want);
        EXPECT_EQ(by_seek(r, 1), want);
        EXPECT_EQ(by_offset(r, 11, /*with_total=*/true), want);   // deep pages walk from the end
        EXPECT_EQ(by_offset(r, 11, /*with_total=*/false), want);
        auto count = project_->count(r);
        ASSERT_TRUE(count.is_ok()) << count.status().message();
        EXPECT_EQ(count.value(), static_cast<int64_t>(want.size()));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 100);
}

TEST_F(PagingTest, AValueNamedTwiceInAFilterListsEachPairOnce) {
  PageRequest r;
  r.filter.decisions = {Decision::kKeep, Decision::kKeep};
  r.filter.sources = {CaptionSource::kWeb, CaptionSource::kWeb, CaptionSource::kHuman};
  r.limit = 1'000'000;
  PageRequest once = r;
  once.filter.decisions = {Decision::kKeep};
  once.filter.sources = {CaptionSource::kWeb, CaptionSource::kHuman};
  for (PairSort sort : kSorts) {
    r.sort = once.sort = sort;
    const V want = ids_of(project_->page(once));
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(ids_of(project_->page(r)), want);
    EXPECT_EQ(project_->count(r).value(), static_cast<int64_t>(want.size()));
  }
}

TEST_F(PagingTest, TiesAreBrokenByCaptionIdInTheDirectionOfTheSort) {
  PageRequest r;
  r.sort = PairSort::kItm;
  r.limit = 1'000'000;
  for (bool descending : {false, true}) {
    r.descending = descending;
    auto page = project_->page(r);
    ASSERT_TRUE(page.is_ok());
    int ties = 0;
    for (size_t k = 1; k < page->rows.size(); ++k) {
      const PairRow &a = page->rows[k - 1], &b = page->rows[k];
      if (*a.itm != *b.itm) continue;
      ++ties;
      EXPECT_EQ(a.caption_id < b.caption_id, !descending);
    }
    EXPECT_GT(ties, 100);
  }
}

TEST_F(PagingTest, KeyAtFindsEveryPositionFromEitherEnd) {
  for (const PairFilter& filter : {filters()[0], filters()[1], filters()[5], filters()[7]}) {
    for (bool descending : {false, true}) {
      PageRequest r;
      r.filter = filter;
      r.sort = PairSort::kItm;
      r.descending = descending;
      r.limit = 1'000'000;
      const V all = ids_of(project_->page(r));
      ASSERT_FALSE(all.empty());
      for (int64_t position : {int64_t{0}, static_cast<int64_t>(all.size() / 3),
                               static_cast<int64_t>(all.size() / 2),
                               static_cast<int64_t>(all.size() - 1)}) {
        auto key = project_->key_at(r, position);
        ASSERT_TRUE(key.is_ok()) << key.status().message();
        ASSERT_TRUE(key->has_value());
        EXPECT_EQ(key->value().caption_id, all[static_cast<size_t>(position)]);
        // The page after the key at position - 1 starts at position.
        PageRequest next = r;
        next.limit = 5;
        next.with_total = false;
        if (position > 0) next.after = project_->key_at(r, position - 1).value();
        const V page = ids_of(project_->page(next));
        ASSERT_FALSE(page.empty());
        EXPECT_EQ(page.front(), all[static_cast<size_t>(position)]);
      }
      auto past = project_->key_at(r, static_cast<int64_t>(all.size()));
      ASSERT_TRUE(past.is_ok());
      EXPECT_FALSE(past->has_value());
      // Counted from a key.
      r.after = project_->key_at(r, 2).value();
      EXPECT_EQ(project_->key_at(r, 0).value()->caption_id, all[3]);
    }
  }
}

// The counts, the histogram and every filter's count, recomputed from the rows.
void expect_counters_right(Project& project, PagingTest* test) {
  PageRequest all;
  all.limit = 1'000'000;
  auto page = project.page(all);
  ASSERT_TRUE(page.is_ok());
  DecisionCounts want;
  std::map<std::tuple<int, int, bool>, int64_t> by_source_decision;  // (source, decision, scored)
  std::vector<std::vector<int64_t>> histogram(3, std::vector<int64_t>(20, 0));
  for (const PairRow& row : page->rows) {
    (row.decision == Decision::kKeep ? want.keep
     : row.decision == Decision::kDrop ? want.drop
                                       : want.undecided) += 1;
    ++by_source_decision[{static_cast<int>(row.caption.source), static_cast<int>(row.decision), false}];
    if (row.itm) {
      ++by_source_decision[{static_cast<int>(row.caption.source), static_cast<int>(row.decision), true}];
      histogram[static_cast<size_t>(row.caption.source)]
               [static_cast<size_t>(std::min(19.0, std::floor(*row.itm * 20)))] += 1;
    }
  }
  auto counts = project.decision_counts();
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts->keep, want.keep);
  EXPECT_EQ(counts->drop, want.drop);
  EXPECT_EQ(counts->undecided, want.undecided);
  auto h = project.itm_histogram(20);
  ASSERT_TRUE(h.is_ok());
  for (const ScoreHistogram& one : h.value())
    EXPECT_EQ(one.counts, histogram[static_cast<size_t>(one.source)]);
  for (CaptionSource source : {CaptionSource::kWeb, CaptionSource::kSynthetic, CaptionSource::kHuman}) {
    for (Decision decision : {Decision::kUndecided, Decision::kKeep, Decision::kDrop}) {
      for (bool scored : {false, true}) {
        PageRequest r;
        r.filter.sources = {source};
        r.filter.decisions = {decision};
        r.sort = scored ? PairSort::kItm : PairSort::kCaptionId;
        const auto key = std::make_tuple(static_cast<int>(source), static_cast<int>(decision), scored);
        EXPECT_EQ(project.count(r).value(), by_source_decision[key]);
      }
    }
  }
  EXPECT_TRUE(project.check().is_ok()) << project.check().message();
  (void)test;
}

TEST_F(PagingTest, CountersStayRightThroughDecisionsUndoInsertsAndScoreUpdates) {
  expect_counters_right(*project_, this);
  // Decisions, one bulk, and a decision that changes nothing.
  ASSERT_TRUE(project_->decide({{2, Decision::kDrop, DecisionOrigin::kCurator, "bob", ""},
                                {5, Decision::kKeep, DecisionOrigin::kCurator, "bob", ""},
                                {5, Decision::kKeep, DecisionOrigin::kCurator, "bob", ""},
                                {6, Decision::kDrop, DecisionOrigin::kCurator, "bob", ""}})
                  .is_ok());
  expect_counters_right(*project_, this);
  ASSERT_EQ(project_->undo("bob", 2).value(), 2);
  expect_counters_right(*project_, this);
  // New pairs, duplicates skipped, and scores for them.
  auto added = project_->insert_pairs(
      {test::image("new/1.jpg", "val", {{"a red dog again", CaptionSource::kWeb, 0},
                                        {"a red dog again", CaptionSource::kSynthetic, 0}}),
       test::image("img/0.jpg", "val", {{"a red red 0", CaptionSource::kWeb, 0}})});
  ASSERT_TRUE(added.is_ok());
  EXPECT_EQ(added->captions_added, 2);
  ASSERT_TRUE(project_->put_scores({{captions_ + 1, model_, 1.0, 0.5}, {captions_ + 2, model_, 0.0, 0.0}}).is_ok());
  expect_counters_right(*project_, this);
  // Scores replaced (a new run of the same model) move between bins and keep their decision.
  ASSERT_TRUE(project_->put_scores({{1, model_, 0.99, 0.1}, {2, model_, 0.01, 0.1}, {captions_ + 1, model_, 0.5, 0.5}}).is_ok());
  expect_counters_right(*project_, this);
  ASSERT_TRUE(project_->decide({{captions_ + 1, Decision::kDrop, DecisionOrigin::kAuto, "filter", ""}}).is_ok());
  expect_counters_right(*project_, this);
  // A score for a caption that does not exist stores nothing.
  EXPECT_EQ(project_->put_scores({{999999, model_, 0.5, 0.5}}).code(), Status::Code::kNotFound);
  EXPECT_EQ(project_->put_scores({{1, 999, 0.5, 0.5}}).code(), Status::Code::kNotFound);
  expect_counters_right(*project_, this);
}

TEST_F(PagingTest, ASecondModelsScoresHaveTheirOwnCounts) {
  ModelRecord second;
  second.name = "filter-2";
  const int64_t model2 = project_->add_model(second).value();
  ASSERT_TRUE(project_->put_scores({{1, model2, 0.5, 0.1}, {2, model2, 0.6, 0.1}, {3, model2, 0.7, 0.1}}).is_ok());
  PageRequest r;
  r.sort = PairSort::kItm;
  r.filter.score_model_id = model2;
  EXPECT_EQ(project_->count(r).value(), 3);
  EXPECT_EQ(ids_of(project_->page(r)), V({1, 2, 3}));
  r.filter.score_model_id = model_;
  EXPECT_EQ(project_->count(r).value(), captions_ - captions_ / 7);
  EXPECT_TRUE(project_->check().is_ok());
}

TEST_F(PagingTest, ASearchSeesCaptionsAddedAfterItFirstRan) {
  PageRequest r;
  r.filter.text_query = "zebra";
  EXPECT_EQ(project_->count(r).value(), 0);
  ASSERT_TRUE(project_->insert_pairs({test::image("z.jpg", "", {{"a zebra", CaptionSource::kWeb, 0}})}).is_ok());
  EXPECT_EQ(project_->count(r).value(), 1);
  EXPECT_EQ(project_->page(r).value().rows.size(), 1u);
  // Another search, then the first again.
  r.filter.text_query = "red";
  const int64_t reds = project_->count(r).value();
  EXPECT_GT(reds, 0);
  r.filter.text_query = "zebra";
  EXPECT_EQ(project_->count(r).value(), 1);
  // A bad expression is the curator's input.
  r.filter.text_query = "AND AND";
  EXPECT_EQ(project_->page(r).status().code(), Status::Code::kInvalid);
  r.filter.text_query = "red";
  EXPECT_EQ(project_->count(r).value(), reds);
}

TEST_F(PagingTest, ACountIsRemadeAfterAnotherConnectionWrites) {
  PageRequest r;
  r.filter.split = "val";  // counted by a walk, then kept until the data changes
  r.filter.decisions = {Decision::kKeep};
  const int64_t before = project_->count(r).value();
  EXPECT_EQ(project_->page(r).value().total, before);
  auto other = test::open_or_die(dir_.file("p.capfilt"), &clock_);
  ASSERT_TRUE(other);
  PageRequest undecided_val;
  undecided_val.filter.split = "val";
  undecided_val.filter.decisions = {Decision::kUndecided};
  const PairRow first = other->page(undecided_val).value().rows.at(0);
  ASSERT_TRUE(other->decide({{first.caption_id, Decision::kKeep, DecisionOrigin::kCurator, "cy", ""}}).is_ok());
  EXPECT_EQ(project_->count(r).value(), before + 1);
  EXPECT_EQ(project_->page(r).value().total, before + 1);
  // And after its own write.
  ASSERT_EQ(project_->undo("cy").value(), 1);
  EXPECT_EQ(project_->count(r).value(), before);
  ASSERT_TRUE(project_->decide({{first.caption_id, Decision::kKeep, DecisionOrigin::kCurator, "dee", ""}}).is_ok());
  EXPECT_EQ(project_->count(r).value(), before + 1);
}

// Lists longer than two samples of positions (1024 rows each) jump through the samples.
TEST(LongListPaging, DeepPositionsAreRightBeforeAndAfterWrites) {
  ScratchDir dir;
  FakeClock clock;
  auto project = test::open_or_die(dir.file("long.capfilt"), &clock);
  ASSERT_TRUE(project);
  std::vector<ImageWithCaptions> batch;
  for (int k = 0; k < 3000; ++k)
    batch.push_back(test::image("i/" + std::to_string(k) + ".jpg", "",
                                {{"web " + std::to_string(k), CaptionSource::kWeb, 0},
                                 {"syn " + std::to_string(k), CaptionSource::kSynthetic, 0}}));
  ASSERT_TRUE(project->insert_pairs(batch).is_ok());
  const int64_t model = project->add_model({}).value();
  std::vector<Score> scores;
  for (int64_t id = 1; id <= 6000; ++id)
    // Every third score half a bin up, so bins hold scores at their floor and in their middle.
    scores.push_back({id, model,
                      static_cast<double>((id * 7919) % 101) / 100.0 + (id % 3 == 0 ? 0.0005 : 0.0),
                      0.1});
  ASSERT_TRUE(project->put_scores(scores).is_ok());
  std::vector<DecisionInput> decisions;
  for (int64_t id = 1; id <= 6000; id += 4) decisions.push_back({id, Decision::kDrop, DecisionOrigin::kAuto, "f", ""});
  ASSERT_TRUE(project->decide(decisions).is_ok());

  auto check = [&](const PageRequest& base) {
    PageRequest all = base;
    all.limit = 1'000'000;
    const V list = ids_of(project->page(all));
    ASSERT_GT(list.size(), 2100u);
    // Deep positions (2048 on) of an ITM list are found through the histogram's bins: every
    // 37th position, so many land on a bin's first or last row.
    std::vector<int64_t> positions = {2047, 2048, 2049, 2500, static_cast<int64_t>(list.size()) - 1};
    for (int64_t p = 2048; p < static_cast<int64_t>(list.size()); p += 37) positions.push_back(p);
    for (bool with_total : {false, true}) {
      for (int64_t position : positions) {
        if (position >= static_cast<int64_t>(list.size())) continue;
        PageRequest r = base;
        r.offset = position;
        r.limit = 3;
        r.with_total = with_total;
        const V page = ids_of(project->page(r));
        ASSERT_FALSE(page.empty()) << position;
        EXPECT_EQ(page.front(), list[static_cast<size_t>(position)]) << position;
        EXPECT_EQ(project->key_at(base, position).value()->caption_id, list[static_cast<size_t>(position)]);
      }
      PageRequest past = base;
      past.offset = static_cast<int64_t>(list.size()) + 5000;
      past.with_total = with_total;
      EXPECT_TRUE(project->page(past).value().rows.empty());
    }
  };
  for (bool descending : {false, true}) {
    PageRequest r;
    r.sort = PairSort::kItm;
    r.descending = descending;
    check(r);
    PageRequest uncounted = r;  // a score range: no counter knows its total, nothing walks back
    uncounted.filter.itm_min = 0.0;
    check(uncounted);
    r.filter.decisions = {Decision::kUndecided};
    check(r);
    r.sort = PairSort::kPath;
    check(r);
    r.filter.decisions.clear();
    r.sort = PairSort::kCaptionId;
    check(r);
    r.sort = PairSort::kDecidedTime;  // ties: one batch of decisions shares one time
    check(r);
    r.filter.decisions = {Decision::kUndecided};
    r.sort = PairSort::kPath;
    // A write moves rows; the samples are made again.
    ASSERT_TRUE(project->decide({{2, Decision::kDrop, DecisionOrigin::kCurator, "ann", ""},
                                 {3, Decision::kDrop, DecisionOrigin::kCurator, "ann", ""}})
                    .is_ok());
    check(r);
    r.sort = PairSort::kItm;
    ASSERT_TRUE(project->put_scores({{6, model, 0.0, 0.0}, {7, model, 1.0, 0.0}}).is_ok());
    check(r);
  }
}

TEST_F(PagingTest, ACheckFindsACounterThatDisagrees) {
  ASSERT_TRUE(project_->check().is_ok());
  project_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("p.capfilt").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE caption_counts SET n = n + 1 WHERE source = 'web' AND decision = 'keep'",
                         nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  project_ = test::open_or_die(dir_.file("p.capfilt"), &clock_);
  ASSERT_TRUE(project_);
  Status s = project_->check();
  EXPECT_EQ(s.code(), Status::Code::kCorrupt);
  EXPECT_NE(s.message().find("counts per source and decision"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace capfilt::db
