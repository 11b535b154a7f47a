// Benchmarks of the project store (not tests) on a project of 1,000,000 captions: pages filtered and
// sorted at the start, middle and end of the list (by offset and by seek), "jump to position", a
// full-text search page, counts, the ITM histogram, and decision writes per second, batched and
// one per transaction.
//
//   build-*/tests/db_bench [--benchmark_filter=...]
// The project is built once under $CAPFILT_BENCH_DIR (default /tmp/capfilt-db-bench) and reused.
// CAPFILT_BENCH_NO_BROWSE_INDEXES=1 drops the browsing indexes first, to measure what they buy.

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "db/project.h"

namespace capfilt::db {
namespace {

constexpr int64_t kCaptions = 1'000'000;  // two per image
const char* const kWords[] = {"red",    "blue",   "green", "circle", "square", "triangle",
                              "small",  "large",  "left",  "right",  "above",  "below",
                              "photo",  "my",     "best",  "day",    "a",      "the"};

struct Rng {  // a small LCG: deterministic data without <random>'s cost
  uint64_t state = 0x9E3779B97F4A7C15ull;
  uint64_t next() { return state = state * 6364136223846793005ull + 1442695040888963407ull; }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
  size_t below(size_t n) { return static_cast<size_t>(next() >> 33) % n; }
};

std::string sentence(Rng& rng) {
  std::string s;
  const int words = 4 + static_cast<int>(rng.below(6));
  for (int k = 0; k < words; ++k) {
    if (k) s += ' ';
    s += kWords[rng.below(sizeof kWords / sizeof *kWords)];
  }
  return s + " #" + std::to_string(rng.next() % 100000);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Images, captions, a filter model's scores for every caption, decisions for 30% of captions.
void generate(Project& project) {
  Rng rng;
  auto t = std::chrono::steady_clock::now();
  std::vector<ImageWithCaptions> images(kCaptions / 2);
  for (size_t k = 0; k < images.size(); ++k) {
    ImageRecord& im = images[k].image;
    im.path = "shard" + std::to_string(k / 10000) + "/" + std::to_string(k) + ".jpg";
    im.width = 640;
    im.height = 480;
    im.split = k % 20 == 0 ? "val" : k % 20 == 1 ? "test" : "train";
    images[k].captions = {{sentence(rng), CaptionSource::kWeb, 0},
                          {sentence(rng), CaptionSource::kSynthetic, 0}};
  }
  auto added = project.insert_pairs(images);  // one transaction
  if (!added.is_ok()) { std::fprintf(stderr, "%s\n", added.status().message().c_str()); std::exit(1); }
  std::fprintf(stderr, "generated %lld captions in %.1f s (%.0f pairs/s)\n",
               static_cast<long long>(added->captions_added), seconds_since(t),
               added->captions_added / seconds_since(t));
  t = std::chrono::steady_clock::now();
  const int64_t model = project.add_model({0, "filter", "", "", "filter"}).value();
  std::vector<Score> scores(kCaptions);
  for (int64_t c = 0; c < kCaptions; ++c) scores[c] = {c + 1, model, rng.unit(), rng.unit() * 0.6};
  if (!project.put_scores(scores)) std::exit(1);
  std::vector<DecisionInput> decisions;
  for (int64_t c = 1; c <= kCaptions; ++c) {
    const double u = rng.unit();
    if (u < 0.3) decisions.push_back({c, u < 0.2 ? Decision::kKeep : Decision::kDrop,
                                      DecisionOrigin::kAuto, "filter", ""});
  }
  if (!project.decide(decisions)) std::exit(1);
  std::fprintf(stderr, "scored 1M captions and logged %zu decisions in %.1f s\n",
               decisions.size(), seconds_since(t));
}

void drop_browse_indexes(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "DROP INDEX IF EXISTS captions_by_decision; DROP INDEX IF EXISTS "
               "captions_by_source; DROP INDEX IF EXISTS images_by_split_path; DROP INDEX IF EXISTS scores_by_source; "
               "DROP INDEX IF EXISTS scores_by_itm; DROP INDEX IF EXISTS scores_by_itc; "
               "DROP INDEX IF EXISTS scores_by_filter_itm; DROP INDEX IF EXISTS scores_by_filter_itc; "
               "DROP INDEX IF EXISTS captions_by_decided",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

Project& bench_project() {
  static std::unique_ptr<Project> project = [] {
    const char* env = std::getenv("CAPFILT_BENCH_DIR");
    const std::string dir = env ? env : "/tmp/capfilt-db-bench";
    std::filesystem::create_directories(dir);
    const bool no_index = std::getenv("CAPFILT_BENCH_NO_BROWSE_INDEXES") != nullptr;
    const std::string path = dir + (no_index ? "/bench-noindex.capfilt" : "/bench.capfilt");
    OpenOptions options;
    options.cache_mib = 1024;
    const auto opening = std::chrono::steady_clock::now();
    auto opened = Project::open(path, options);  // migrates a project of an older schema
    std::fprintf(stderr, "opened (and migrated) the project in %.1f s\n", seconds_since(opening));
    if (!opened.is_ok()) { std::fprintf(stderr, "%s\n", opened.status().message().c_str()); std::exit(1); }
    if (opened.value()->page({}).value().total < kCaptions) generate(*opened.value());
    if (no_index) {
      opened = Status::ok();  // close before changing the schema underneath
      drop_browse_indexes(path);
      opened = Project::open(path, options);
    }
    return std::move(opened).value();
  }();
  return *project;
}

void run_page(benchmark::State& state, const PageRequest& request) {
  Project& project = bench_project();
  int64_t total = 0;
  for (auto _ : state) {
    auto page = project.page(request);
    if (!page.is_ok()) { state.SkipWithError(page.status().message().c_str()); return; }
    total = page->total;
    benchmark::DoNotOptimize(page->rows.data());
  }
  state.counters["total"] = static_cast<double>(total);
}

// The filter of the review list the issue measured: web captions nobody decided, best ITM first.
PageRequest web_undecided_by_itm() {
  PageRequest r;
  r.filter.sources = {CaptionSource::kWeb};
  r.filter.decisions = {Decision::kUndecided};
  r.sort = PairSort::kItm;
  r.descending = true;
  return r;
}

// Offset paging as before (a page recounting its filter's total each time).
void BM_PageWebUndecidedByItm(benchmark::State& state) {
  PageRequest r = web_undecided_by_itm();
  r.offset = state.range(0);
  run_page(state, r);
}
BENCHMARK(BM_PageWebUndecidedByItm)->Arg(0)->Arg(10000)->Unit(benchmark::kMillisecond);

// What the studio does: no total per page (count() once per filter), the page at the start, the
// middle and the end (Arg: per mille of the list) by offset, and by seek from the previous page.
void BM_PageNoTotalAt(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r = web_undecided_by_itm();
  const int64_t total = project.count(r).value();
  r.with_total = false;
  r.offset = std::max<int64_t>(0, total * state.range(0) / 1000 - (state.range(0) == 1000 ? 100 : 0));
  run_page(state, r);
  state.counters["offset"] = static_cast<double>(r.offset);
}
BENCHMARK(BM_PageNoTotalAt)->Arg(0)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_PageSeekAt(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r = web_undecided_by_itm();
  const int64_t total = project.count(r).value();
  r.with_total = false;
  const int64_t position = std::max<int64_t>(1, total * state.range(0) / 1000 - 100);
  r.after = project.key_at(r, position - 1).value();
  run_page(state, r);
  state.counters["position"] = static_cast<double>(position);
}
BENCHMARK(BM_PageSeekAt)->Arg(0)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

// "Jump to position N": the key at a position (Arg: per mille of the web + undecided list).
void BM_KeyAt(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r = web_undecided_by_itm();
  const int64_t total = project.count(r).value();
  const int64_t position = std::min(total - 1, total * state.range(0) / 1000);
  for (auto _ : state) {
    auto key = project.key_at(r, position);
    if (!key.is_ok() || !key->has_value()) { state.SkipWithError("key_at failed"); return; }
    benchmark::DoNotOptimize(key->value().caption_id);
  }
  state.counters["position"] = static_cast<double>(position);
}
BENCHMARK(BM_KeyAt)->Arg(0)->Arg(250)->Arg(500)->Arg(750)->Arg(1000)->Unit(benchmark::kMillisecond);

// The same over all 1,000,000 captions sorted by ITM (one index, no filter).
void BM_KeyAtAllByItm(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r;
  r.sort = PairSort::kItm;
  const int64_t total = project.count(r).value();
  const int64_t position = std::min(total - 1, total * state.range(0) / 1000);
  for (auto _ : state) {
    auto key = project.key_at(r, position);
    if (!key.is_ok() || !key->has_value()) { state.SkipWithError("key_at failed"); return; }
    benchmark::DoNotOptimize(key->value().caption_id);
  }
  state.counters["position"] = static_cast<double>(position);
}
BENCHMARK(BM_KeyAtAllByItm)->Arg(0)->Arg(250)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

// A jump right after a write (a decision before each drops the kept position samples): the walk
// from the nearer end of the list. Arg: per mille of the 1M list sorted by ITM.
void BM_KeyAtAfterWrite(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r;
  r.sort = PairSort::kItm;
  const int64_t total = project.count(r).value();
  const int64_t position = std::min(total - 1, total * state.range(0) / 1000);
  Rng rng;
  for (auto _ : state) {
    state.PauseTiming();
    const DecisionInput d{static_cast<int64_t>(rng.below(kCaptions)) + 1, Decision::kKeep,
                          DecisionOrigin::kCurator, "bench-jump", ""};
    if (!project.decide({d})) { state.SkipWithError("decide failed"); return; }
    state.ResumeTiming();
    auto key = project.key_at(r, position);
    if (!key.is_ok() || !key->has_value()) { state.SkipWithError("key_at failed"); return; }
  }
  state.counters["position"] = static_cast<double>(position);
}
BENCHMARK(BM_KeyAtAfterWrite)->Arg(250)->Arg(500)->Unit(benchmark::kMillisecond);

// A count that the counters cannot answer, made afresh (a decision before each invalidates the
// kept counts): 0 = the "val" split, 1 = a search, 2 = ITM <= 0.3.
void BM_CountWalked(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r;
  if (state.range(0) == 0) r.filter.split = "val";
  if (state.range(0) == 1) r.filter.text_query = "triangle AND left";
  if (state.range(0) == 2) r.filter.itm_max = 0.3;
  Rng rng;
  int64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const DecisionInput d{static_cast<int64_t>(rng.below(kCaptions)) + 1, Decision::kKeep,
                          DecisionOrigin::kCurator, "bench-count", ""};
    if (!project.decide({d})) { state.SkipWithError("decide failed"); return; }
    state.ResumeTiming();
    n = project.count(r).value();
  }
  state.counters["count"] = static_cast<double>(n);
}
BENCHMARK(BM_CountWalked)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// A search for a rare word: its matches are listed and sorted, not walked in ITM order.
void BM_PageRareTextSearch(benchmark::State& state) {
  PageRequest r;
  r.filter.text_query = "\"12345\"";  // the number after '#' in ~10 captions
  r.sort = PairSort::kItm;
  r.descending = true;
  r.with_total = false;
  run_page(state, r);
  state.counters["rows"] = static_cast<double>(bench_project().page(r).value().rows.size());
}
BENCHMARK(BM_PageRareTextSearch)->Unit(benchmark::kMillisecond);

// The count of the filter, computed once per filter (the studio, off its GUI thread).
void BM_CountWebUndecided(benchmark::State& state) {
  Project& project = bench_project();
  const PageRequest r = web_undecided_by_itm();
  for (auto _ : state) benchmark::DoNotOptimize(project.count(r).value());
}
BENCHMARK(BM_CountWebUndecided)->Unit(benchmark::kMillisecond);

void BM_PageItmBelowByItm(benchmark::State& state) {
  PageRequest r;
  r.filter.itm_max = 0.3;
  r.sort = PairSort::kItm;
  r.with_total = state.range(0) != 0;
  run_page(state, r);
}
BENCHMARK(BM_PageItmBelowByItm)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_PageSplitByPath(benchmark::State& state) {
  PageRequest r;
  r.filter.split = "val";
  r.sort = PairSort::kPath;
  r.with_total = state.range(0) != 0;
  run_page(state, r);
}
BENCHMARK(BM_PageSplitByPath)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// Arg 1: with the total, as before; 0: without (the page alone, once the search ran).
void BM_PageTextSearchByItm(benchmark::State& state) {
  PageRequest r;
  r.filter.text_query = "triangle AND left";
  r.sort = PairSort::kItm;
  r.descending = true;
  r.with_total = state.range(0) != 0;
  run_page(state, r);
}
BENCHMARK(BM_PageTextSearchByItm)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// A search deep in its results: the page after the 10,000th match by seek.
void BM_PageTextSearchSeek(benchmark::State& state) {
  Project& project = bench_project();
  PageRequest r;
  r.filter.text_query = "triangle AND left";
  r.sort = PairSort::kItm;
  r.descending = true;
  r.with_total = false;
  r.after = project.key_at(r, 10000).value();
  run_page(state, r);
}
BENCHMARK(BM_PageTextSearchSeek)->Unit(benchmark::kMillisecond);

// The first page of a new search (the match set is rebuilt each time).
void BM_PageTextSearchNew(benchmark::State& state) {
  Project& project = bench_project();
  const char* const queries[] = {"triangle AND left", "circle AND right"};
  int k = 0;
  for (auto _ : state) {
    PageRequest r;
    r.filter.text_query = queries[k++ % 2];
    r.sort = PairSort::kItm;
    r.descending = true;
    r.with_total = false;
    auto page = project.page(r);
    if (!page.is_ok()) { state.SkipWithError(page.status().message().c_str()); return; }
    benchmark::DoNotOptimize(page->rows.data());
  }
}
BENCHMARK(BM_PageTextSearchNew)->Unit(benchmark::kMillisecond);

void BM_ItmHistogram(benchmark::State& state) {
  Project& project = bench_project();
  for (auto _ : state) {
    auto h = project.itm_histogram(20);
    if (!h.is_ok()) { state.SkipWithError(h.status().message().c_str()); return; }
    benchmark::DoNotOptimize(h->data());
  }
}
BENCHMARK(BM_ItmHistogram)->Unit(benchmark::kMillisecond);

void BM_DecisionCounts(benchmark::State& state) {
  Project& project = bench_project();
  for (auto _ : state) benchmark::DoNotOptimize(project.decision_counts().value().keep);
}
BENCHMARK(BM_DecisionCounts)->Unit(benchmark::kMillisecond);

// Decisions per second with `range(0)` decisions per transaction.
void BM_DecisionWrites(benchmark::State& state) {
  Project& project = bench_project();
  Rng rng;
  const auto batch = static_cast<size_t>(state.range(0));
  std::vector<DecisionInput> decisions(batch);
  for (auto _ : state) {
    for (auto& d : decisions)
      d = {static_cast<int64_t>(rng.below(kCaptions)) + 1,
           rng.below(2) ? Decision::kKeep : Decision::kDrop, DecisionOrigin::kCurator, "bench", ""};
    if (!project.decide(decisions)) { state.SkipWithError("decide failed"); return; }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_DecisionWrites)->Arg(1)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace capfilt::db

BENCHMARK_MAIN();
