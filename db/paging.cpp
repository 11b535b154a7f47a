// Pages at any depth: keyset (seek) paging over covering indexes, positions, and counts.
//
// A page is read in two steps. First the keys: (sort key, caption id) of the rows wanted, walked
// in order from an index that holds the key, the id and every column the filter tests. A filter
// naming decisions and sources becomes one walk per (source, decision) — each an index range in
// key order — merged by SQLite (a compound SELECT with ORDER BY merges its arms; nothing is
// sorted). Then the full rows of that page alone, by caption id.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "db/project.h"
#include "db/project_impl.h"
#include "db/query.h"

namespace capfilt::db {

using internal::Connection;
using internal::Query;
using internal::ReadTransaction;
using internal::Stmt;

namespace {

bool is_score_sort(PairSort sort) { return sort == PairSort::kItm || sort == PairSort::kItc; }

// Pairs join the score model's scores inner when the scores must exist (a score range or order).
bool scored_only(const PageRequest& r) {
  return internal::has_score_range(r.filter) || is_score_sort(r.sort);
}

// The values a filter list names, each once (one walk each), or all of them for an empty list.
template <typename E>
std::vector<E> or_all(const std::vector<E>& values, std::initializer_list<E> all) {
  std::vector<E> out;
  for (E v : all)
    if (values.empty() || std::find(values.begin(), values.end(), v) != values.end())
      out.push_back(v);
  return out;
}
const std::initializer_list<Decision> kAllDecisions = {Decision::kUndecided, Decision::kKeep,
                                                       Decision::kDrop};
const std::initializer_list<CaptionSource> kAllSources = {
    CaptionSource::kWeb, CaptionSource::kSynthetic, CaptionSource::kHuman};

// Refreshes the temporary table of caption ids that match the filter's text query.
Status refresh_matches(Connection& c, internal::MatchCache& m, const PairFilter& f) {
  if (f.text_query.empty()) return Status::ok();
  if (!m.table_created) {
    if (Status s = c.exec("CREATE TEMP TABLE IF NOT EXISTS capfilt_match(id INTEGER PRIMARY KEY)");
        !s)
      return s;
    m.table_created = true;
  }
  auto newest = c.prepare("SELECT coalesce(max(id), 0) FROM captions");
  if (!newest) return newest.status();
  int rc = newest->step();
  if (rc != SQLITE_ROW) return c.error("reading the newest caption", rc);
  const int64_t upto = newest->i64(0);
  newest = Stmt();
  if (m.query != f.text_query) {
    m.query.clear();
    m.upto = 0;
    m.size = 0;
    if (Status s = c.exec("DELETE FROM temp.capfilt_match"); !s) return s;
  }
  if (upto <= m.upto && !m.query.empty()) return Status::ok();
  auto fill = c.prepare(
      "INSERT OR IGNORE INTO temp.capfilt_match(id) SELECT rowid FROM captions_fts "
      "WHERE captions_fts MATCH ?1 AND rowid > ?2 AND rowid <= ?3");
  if (!fill) return fill.status();
  fill->bind_text(1, f.text_query).bind_i64(2, m.upto).bind_i64(3, upto);
  rc = fill->step();
  if (rc != SQLITE_DONE) return internal::query_error(c, f, "searching captions", rc);
  m.size += sqlite3_changes(c.handle());
  m.query = f.text_query;
  m.upto = upto;
  return Status::ok();
}

// Conditions on a scores row s beyond its model, source and decision. `matches_joined`: the FROM
// clause starts from the search's matches already.
void add_score_conditions(Query& q, const PairFilter& f, bool matches_joined = false) {
  internal::add_range(q, "s.itm", f.itm_min, f.itm_max);
  internal::add_range(q, "s.itc", f.itc_min, f.itc_max);
  if (!f.split.empty()) {
    q.add(" AND EXISTS (SELECT 1 FROM captions c JOIN images i ON i.id = c.image_id "
          "WHERE c.id = s.caption_id AND i.split = ");
    q.text(f.split);
    q.add(")");
  }
  if (!f.text_query.empty() && !matches_joined)
    q.add(" AND s.caption_id IN (SELECT id FROM temp.capfilt_match)");
}

// Conditions on a captions row c beyond its source and decision. `images_joined`: images i is in
// the FROM clause already.
void add_caption_conditions(Query& q, const PairFilter& f, int64_t model, bool scored,
                            bool images_joined, bool matches_joined = false) {
  if (!f.split.empty()) {
    if (images_joined) {
      q.add(" AND i.split = ");
    } else {
      q.add(" AND EXISTS (SELECT 1 FROM images i WHERE i.id = c.image_id AND i.split = ");
    }
    q.text(f.split);
    if (!images_joined) q.add(")");
  }
  if (scored) {
    q.add(" AND EXISTS (SELECT 1 FROM scores s WHERE s.caption_id = c.id AND s.model_id = ");
    q.integer(model);
    internal::add_range(q, "s.itm", f.itm_min, f.itm_max);
    internal::add_range(q, "s.itc", f.itc_min, f.itc_max);
    q.add(")");
  }
  if (!f.text_query.empty() && !matches_joined)
    q.add(" AND c.id IN (SELECT id FROM temp.capfilt_match)");
}

// " AND (key, id) > (?, ?)" (or < when descending) for the row-value key columns.
// `inclusive`: the row at `after` itself too (>=, <=).
void add_after(Query& q, const std::string& key, const std::string& id, PairSort sort,
               const SortKey& after, bool descending, bool inclusive) {
  const char* op = descending ? " < " : " > ";
  const char* id_op = inclusive ? (descending ? " <= " : " >= ") : op;
  auto bind_key = [&] {
    if (sort == PairSort::kPath) q.text(after.text);
    else if (sort == PairSort::kCaptionId) q.integer(after.caption_id);
    else q.real(after.number);
  };
  if (sort == PairSort::kCaptionId) {
    q.add(" AND " + id + id_op);
    q.integer(after.caption_id);
    return;
  }
  if (sort == PairSort::kPath) {
    // Across two tables a row value is not an index range; the plain bound on the path is.
    q.add(" AND " + key + (descending ? " <= " : " >= "));
    bind_key();
    q.add(" AND (" + key + op);
    bind_key();
    q.add(" OR " + id + id_op);
    q.integer(after.caption_id);
    q.add(")");
    return;
  }
  q.add(" AND (" + key + ", " + id + ")" + id_op + "(");
  bind_key();
  q.add(", ");
  q.integer(after.caption_id);
  q.add(")");
}

// A search with at most this many matches lists them and sorts them (a few milliseconds) rather
// than walking the index of the sort key for them, which passes over 1 / selectivity rows each;
// so does one matching under an eighth of the captions.
constexpr int64_t kSortMatchesUpTo = 20000;
bool sort_matches(const internal::MatchCache& m) {
  return m.size <= kSortMatchesUpTo && m.size * 8 < m.upto;
}

// The compound SELECT of a page's keys, built arm by arm: each arm lists (key, caption id) of the
// rows it covers in the request's order, after `after` (or from it, when `inclusive`).
struct KeyArms {
  const PageRequest& r;
  int64_t model;
  bool descending;
  const std::optional<SortKey>& after;
  bool inclusive;
  Query q;
  int arms = 0;

  void begin() {
    if (arms++ > 0) q.add(" UNION ALL ");
  }
  void add_after_key(const std::string& key, const std::string& id) {
    if (after) add_after(q, key, id, r.sort, *after, descending, inclusive);
  }
  std::string score_key() const { return r.sort == PairSort::kItm ? "s.itm" : "s.itc"; }
  std::string caption_key() const {
    return r.sort == PairSort::kPath          ? "i.path"
           : r.sort == PairSort::kDecidedTime ? "c.decided_ms"
                                              : "c.id";
  }

  // One arm over the search's matches (few of them: sorted, not walked).
  void matches_arm() {
    const PairFilter& f = r.filter;
    begin();
    if (is_score_sort(r.sort)) {
      q.add("SELECT " + score_key() + ", s.caption_id FROM temp.capfilt_match m CROSS JOIN "
            "scores s ON s.caption_id = m.id AND s.model_id = ");
      q.integer(model);
      q.add(" WHERE 1");
      internal::add_in_list(q, "s.source", f.sources);
      internal::add_in_list(q, "s.decision", f.decisions);
      add_score_conditions(q, f, /*matches_joined=*/true);
      add_after_key(score_key(), "s.caption_id");
      return;
    }
    q.add("SELECT " + caption_key() + ", c.id FROM temp.capfilt_match m CROSS JOIN captions c "
          "ON c.id = m.id JOIN images i ON i.id = c.image_id WHERE 1");
    internal::add_in_list(q, "c.decision", f.decisions);
    internal::add_in_list(q, "c.source", f.sources);
    add_caption_conditions(q, f, model, scored_only(r), /*images_joined=*/true,
                           /*matches_joined=*/true);
    add_after_key(caption_key(), "c.id");
  }

  // One arm per (source, decision) over the (model, source, decision, score, id) index, or one
  // over the (model, score) index when the filter names neither.
  void score_arms() {
    const PairFilter& f = r.filter;
    auto arm = [&](const std::optional<CaptionSource>& source,
                   const std::optional<Decision>& decision) {
      begin();
      q.add("SELECT " + score_key() + ", s.caption_id FROM scores s WHERE s.model_id = ");
      q.integer(model);
      if (source) { q.add(" AND s.source = "); q.text(to_string(*source)); }
      if (decision) { q.add(" AND s.decision = "); q.text(to_string(*decision)); }
      add_score_conditions(q, f);
      add_after_key(score_key(), "s.caption_id");
    };
    if (f.sources.empty() && f.decisions.empty()) return arm(std::nullopt, std::nullopt);
    for (CaptionSource source : or_all(f.sources, kAllSources))
      for (Decision decision : or_all(f.decisions, kAllDecisions)) arm(source, decision);
  }

  // Images in path order, each image's captions by its index (the unary + keeps SQLite from
  // looking captions up by decision or source instead, once per image).
  void path_arm() {
    const PairFilter& f = r.filter;
    begin();
    q.add("SELECT i.path, c.id FROM images i CROSS JOIN captions c ON c.image_id = i.id WHERE 1");
    internal::add_in_list(q, "+c.decision", f.decisions);
    internal::add_in_list(q, "+c.source", f.sources);
    add_caption_conditions(q, f, model, scored_only(r), /*images_joined=*/true);
    add_after_key("i.path", "c.id");
  }

  // One arm per (decision, source) over the (decision, source[, decided_ms]) indexes, each in
  // key then rowid order, or the table itself for caption-id order without those filters.
  void caption_arms() {
    const PairFilter& f = r.filter;
    auto arm = [&](const std::optional<CaptionSource>& source,
                   const std::optional<Decision>& decision) {
      begin();
      q.add("SELECT " + caption_key() + ", c.id FROM captions c WHERE 1");
      if (decision) { q.add(" AND c.decision = "); q.text(to_string(*decision)); }
      if (source) { q.add(" AND c.source = "); q.text(to_string(*source)); }
      add_caption_conditions(q, f, model, scored_only(r), /*images_joined=*/false);
      add_after_key(caption_key(), "c.id");
    };
    if (r.sort == PairSort::kCaptionId && f.sources.empty() && f.decisions.empty())
      return arm(std::nullopt, std::nullopt);
    for (Decision decision : or_all(f.decisions, kAllDecisions))
      for (CaptionSource source : or_all(f.sources, kAllSources)) arm(source, decision);
  }
};

// SELECT key, caption_id ... ORDER BY key, caption_id LIMIT ? OFFSET ?: the keys of a page.
Query keys_query(const PageRequest& r, int64_t model, bool descending,
                 const std::optional<SortKey>& after, int64_t limit, int64_t offset,
                 bool sort_matches, bool inclusive = false) {
  KeyArms arms{r, model, descending, after, inclusive, {}};
  if (!r.filter.text_query.empty() && sort_matches) arms.matches_arm();
  else if (is_score_sort(r.sort)) arms.score_arms();
  else if (r.sort == PairSort::kPath) arms.path_arm();
  else arms.caption_arms();
  Query& q = arms.q;
  q.add(descending ? " ORDER BY 1 DESC, 2 DESC LIMIT " : " ORDER BY 1, 2 LIMIT ");
  q.integer(limit);
  q.add(" OFFSET ");
  q.integer(offset);
  return std::move(q);
}

SortKey read_key(const Stmt& stmt, PairSort sort) {
  SortKey key;
  key.caption_id = stmt.i64(1);
  if (sort == PairSort::kPath) key.text = stmt.text(0);
  else key.number = stmt.f64(0);
  return key;
}

// Runs a keys_query.
Result<std::vector<SortKey>> run_keys(Connection& c, const PageRequest& r, const Query& q) {
  auto stmt = c.prepare(q.sql);
  if (!stmt) return stmt.status();
  q.bind(stmt.value());
  std::vector<SortKey> keys;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) keys.push_back(read_key(stmt.value(), r.sort));
  if (rc != SQLITE_DONE) return internal::query_error(c, r.filter, "listing pairs", rc);
  return keys;
}

// What the caches are valid for: commits of other connections and changes of this one.
Result<std::pair<int64_t, int64_t>> data_stamp(Connection& c) {
  auto version = c.prepare("PRAGMA data_version");
  if (!version) return version.status();
  int rc = version->step();
  if (rc != SQLITE_ROW) return c.error("reading the data version", rc);
  return std::make_pair(version->i64(0), static_cast<int64_t>(sqlite3_total_changes64(c.handle())));
}

std::string count_key(const PageRequest& r, int64_t model);

// The keys of `limit` rows from a deep `offset` of the list (r's filter and order, `descending`,
// no `after`): skipped inside SQLite (OFFSET over the index; stepping through the rows here, or
// many short OFFSETs, measured two times slower) from the nearest position an earlier jump into
// this list found, so a scrollbar dragged through a list walks only the distance it moved. The
// positions are dropped when the data or the list changes.
Result<std::vector<SortKey>> anchored_keys(Connection& c, internal::PositionCache& cache,
                                           const PageRequest& r, int64_t model, bool descending,
                                           int64_t offset, int64_t limit, bool sorted_matches) {
  auto stamp = data_stamp(c);
  if (!stamp) return stamp.status();
  const std::string list = count_key(r, model) + "|" + std::to_string(static_cast<int>(r.sort)) +
                           (descending ? "|desc" : "|asc");
  if (cache.list != list || cache.data_version != stamp->first || cache.changes != stamp->second ||
      cache.anchors.size() > internal::PositionCache::kMaxAnchors) {
    cache.list = list;
    cache.data_version = stamp->first;
    cache.changes = stamp->second;
    cache.anchors.clear();
  }
  std::optional<SortKey> from;  // the row at an anchor's position, listed from itself
  int64_t skip = offset;
  auto above = cache.anchors.upper_bound(offset);  // the first anchor past offset
  if (above != cache.anchors.begin()) {
    --above;
    from = above->second;
    skip = offset - above->first;
  }
  auto keys = run_keys(c, r, keys_query(r, model, descending, from, limit, skip, sorted_matches,
                                        /*inclusive=*/true));
  if (!keys) return keys.status();
  if (!keys->empty()) cache.anchors[offset] = keys->front();
  return keys;
}

// Whether the counters the triggers keep (caption_counts, score_bins) answer for `f`: they count
// by source and decision (and score bin) alone.
bool counters_answer(const PairFilter& f) {
  return f.split.empty() && f.text_query.empty() && !internal::has_score_range(f);
}

// The lowest ITM score whose score_bins bin is `bin` or above: the smallest double t with
// CAST(t * 1000 AS INTEGER) >= bin, computed as SQLite computes the bin (a double product).
double bin_floor(int bin) {
  double t = bin / 1000.0;
  while (t * 1000.0 >= bin) t = std::nextafter(t, -HUGE_VAL);
  return std::nextafter(t, HUGE_VAL);
}

// A deep page of a list in ITM order whose filter the counters answer (only decisions and
// sources): the ITM histogram's counters (score_bins, 1,000 bins kept by triggers) tell which bin
// holds row `offset` and how many rows come before it, so the walk starts at that bin's first
// row and skips only inside the bin (hundreds of rows, not hundreds of thousands). nullopt when
// the list is not such a list.
Result<std::optional<std::vector<SortKey>>> binned_keys(Connection& c, const PageRequest& r,
                                                        int64_t model, bool descending,
                                                        int64_t offset, int64_t limit,
                                                        bool sorted_matches) {
  using Keys = std::optional<std::vector<SortKey>>;
  const PairFilter& f = r.filter;
  if (r.sort != PairSort::kItm || r.after || !counters_answer(f)) return Keys();
  Query q;
  q.add("SELECT bin, sum(n) FROM score_bins WHERE model_id = ");
  q.integer(model);
  internal::add_in_list(q, "source", f.sources);
  internal::add_in_list(q, "decision", f.decisions);
  q.add(descending ? " GROUP BY bin ORDER BY bin DESC" : " GROUP BY bin ORDER BY bin");
  auto stmt = c.prepare(q.sql);
  if (!stmt) return stmt.status();
  q.bind(stmt.value());
  int64_t before = 0;
  std::optional<int> bin;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    const int64_t n = stmt->i64(1);
    if (before + n > offset) {
      bin = static_cast<int>(stmt->i64(0));
      break;
    }
    before += n;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return c.error("reading the score histogram", rc);
  if (!bin) return Keys(std::vector<SortKey>{});  // past the end
  stmt = Stmt();
  // Rows of bins >= bin are those with itm >= bin_floor(bin) (ascending); of bins <= bin, those
  // with itm < bin_floor(bin + 1) (descending). The id bound below every id makes it a key bound.
  std::optional<SortKey> from;
  if (!descending && *bin > 0) from = SortKey{bin_floor(*bin), {}, INT64_MIN};
  if (descending && *bin < 999) from = SortKey{bin_floor(*bin + 1), {}, INT64_MIN};
  auto keys = run_keys(c, r, keys_query(r, model, descending, from, limit, offset - before,
                                        sorted_matches));
  if (!keys) return keys.status();
  return Keys(std::move(keys).value());
}

// The keys of `limit` rows from `offset` in the request's order. With the total known and the
// offset past its middle, walks the reverse order from the end instead (an index walks either
// way). A deep offset starts from the nearest position known in the list (anchored_keys).
Result<std::vector<SortKey>> page_keys(Connection& c, internal::PositionCache& positions,
                                       const PageRequest& r, int64_t model, int64_t offset,
                                       int64_t limit, int64_t total, bool sorted_matches) {
  bool reverse = false;
  if (!r.after && total >= 0 && offset > total / 2) {
    if (offset >= total) return std::vector<SortKey>{};
    const int64_t end = std::min(total, offset + limit);  // rows [offset, end)
    limit = end - offset;
    offset = total - end;
    reverse = true;
  }
  const bool descending = r.descending != reverse;
  const bool deep = !r.after && offset >= internal::PositionCache::kDeep && limit > 0;
  Result<std::vector<SortKey>> keys = std::vector<SortKey>{};
  auto binned = deep ? binned_keys(c, r, model, descending, offset, limit, sorted_matches)
                     : Result<std::optional<std::vector<SortKey>>>(std::nullopt);
  if (!binned) return binned.status();
  if (*binned) keys = std::move(**binned);
  else if (deep) keys = anchored_keys(c, positions, r, model, descending, offset, limit, sorted_matches);
  else keys = run_keys(c, r, keys_query(r, model, descending, r.after, limit, offset, sorted_matches));
  if (!keys) return keys.status();
  if (reverse) std::reverse(keys->begin(), keys->end());
  return keys;
}

// The count from the counters kept current by triggers, when the filter is only decisions and
// sources; nullopt otherwise.
Result<std::optional<int64_t>> counted(Connection& c, const PageRequest& r, int64_t model) {
  const PairFilter& f = r.filter;
  if (!counters_answer(f)) return std::optional<int64_t>();
  Query q;
  if (scored_only(r)) {
    q.add("SELECT coalesce(sum(n), 0) FROM score_bins WHERE model_id = ");
    q.integer(model);
    internal::add_in_list(q, "source", f.sources);
    internal::add_in_list(q, "decision", f.decisions);
  } else {
    q.add("SELECT coalesce(sum(n), 0) FROM caption_counts WHERE 1");
    internal::add_in_list(q, "source", f.sources);
    internal::add_in_list(q, "decision", f.decisions);
  }
  auto stmt = c.prepare(q.sql);
  if (!stmt) return stmt.status();
  q.bind(stmt.value());
  int rc = stmt->step();
  if (rc != SQLITE_ROW) return c.error("reading the counts", rc);
  return std::optional<int64_t>(stmt->i64(0));
}

Result<int64_t> count_by_walk(Connection& c, const PageRequest& r, int64_t model) {
  const PairFilter& f = r.filter;
  const bool text = !f.text_query.empty();
  Query q;
  // Start from the narrowest set the filter names: the search's matches, then a split's images.
  if (scored_only(r)) {
    if (text) {
      q.add("SELECT count(*) FROM temp.capfilt_match m CROSS JOIN scores s "
            "ON s.caption_id = m.id AND s.model_id = ");
      q.integer(model);
      q.add(" WHERE 1");
    } else if (!f.split.empty()) {
      q.add("SELECT count(*) FROM images i CROSS JOIN captions c ON c.image_id = i.id "
            "CROSS JOIN scores s ON s.caption_id = c.id AND s.model_id = ");
      q.integer(model);
      q.add(" WHERE i.split = ");
      q.text(f.split);
    } else {
      q.add("SELECT count(*) FROM scores s WHERE s.model_id = ");
      q.integer(model);
    }
    internal::add_in_list(q, "s.source", f.sources);
    internal::add_in_list(q, "s.decision", f.decisions);
    PairFilter rest = f;
    if (!text) rest.split.clear();  // tested by the join above
    add_score_conditions(q, rest, /*matches_joined=*/text);
  } else {
    if (text) {
      q.add("SELECT count(*) FROM temp.capfilt_match m CROSS JOIN captions c ON c.id = m.id "
            "WHERE 1");
    } else {
      q.add("SELECT count(*) FROM images i CROSS JOIN captions c ON c.image_id = i.id "
            "WHERE i.split = ");
      q.text(f.split);  // without a search or split, the counters answered
    }
    internal::add_in_list(q, "c.decision", f.decisions);
    internal::add_in_list(q, "c.source", f.sources);
    PairFilter rest = f;
    if (!text) rest.split.clear();
    add_caption_conditions(q, rest, model, false, /*images_joined=*/false,
                           /*matches_joined=*/text);
  }
  auto stmt = c.prepare(q.sql);
  if (!stmt) return stmt.status();
  q.bind(stmt.value());
  int rc = stmt->step();
  if (rc != SQLITE_ROW) return internal::query_error(c, f, "counting pairs", rc);
  return stmt->i64(0);
}

// A text form of what a count depends on.
std::string count_key(const PageRequest& r, int64_t model) {
  const PairFilter& f = r.filter;
  std::string key = std::to_string(model) + (scored_only(r) ? "|scored|" : "|all|");
  for (Decision d : f.decisions) key += std::string(to_string(d)) + ",";
  key += "|";
  for (CaptionSource s : f.sources) key += std::string(to_string(s)) + ",";
  auto number = [](const std::optional<double>& v) {
    char buffer[40] = "-";
    if (v) std::snprintf(buffer, sizeof buffer, "%.17g", *v);
    return std::string(buffer);
  };
  key += "|" + number(f.itm_min) + "|" + number(f.itm_max) + "|" + number(f.itc_min) + "|" +
         number(f.itc_max) + "|" + std::to_string(f.split.size()) + ":" + f.split + "|" +
         f.text_query;
  return key;
}

// Inside a read transaction whose snapshot is taken (after its first read).
Result<int64_t> count_pairs(Connection& c, internal::CountCache& cache, const PageRequest& r,
                            int64_t model) {
  auto fast = counted(c, r, model);
  if (!fast) return fast.status();
  if (fast->has_value()) return **fast;
  auto stamp = data_stamp(c);
  if (!stamp) return stamp.status();
  const auto [data_version, changes] = stamp.value();
  if (cache.data_version != data_version || cache.changes != changes) {
    cache.counts.clear();
    cache.data_version = data_version;
    cache.changes = changes;
  }
  const std::string key = count_key(r, model);
  auto found = cache.counts.find(key);
  if (found != cache.counts.end()) return found->second;
  auto n = count_by_walk(c, r, model);
  if (!n) return n.status();
  if (cache.counts.size() > 64) cache.counts.clear();
  cache.counts[key] = n.value();
  return n.value();
}

}  // namespace

Result<Page> Project::page(const PageRequest& request) {
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, request.filter.score_model_id);
  if (!model) return model.status();
  if (Status s = refresh_matches(c, impl_->matches, request.filter); !s) return s;
  Page page;
  page.total = -1;
  int64_t total = -1;  // known when counted, or when the counters tell it for nothing
  if (request.with_total) {
    auto counted_total = count_pairs(c, impl_->counts, request, model.value());
    if (!counted_total) return counted_total.status();
    page.total = total = counted_total.value();
  } else if (!request.after && request.offset > 0) {
    auto fast = counted(c, request, model.value());
    if (!fast) return fast.status();
    if (fast->has_value()) total = **fast;
  }
  auto keys = page_keys(c, impl_->positions, request, model.value(),
                        std::max<int64_t>(0, request.offset),
                        std::max<int64_t>(0, request.limit), total, sort_matches(impl_->matches));
  if (!keys) return keys.status();
  const std::string row_sql = std::string("SELECT ") + internal::kPairColumns +
                              "FROM captions c JOIN images i ON i.id = c.image_id "
                              "LEFT JOIN scores s ON s.caption_id = c.id AND s.model_id = ?2 "
                              "WHERE c.id = ?1";
  page.rows.reserve(keys->size());
  for (const SortKey& key : keys.value()) {
    auto row = c.prepare(row_sql);  // cached; reset when it goes out of scope
    if (!row) return row.status();
    row->bind_i64(1, key.caption_id).bind_i64(2, model.value());
    int rc = row->step();
    if (rc != SQLITE_ROW) return c.error("reading a pair", rc);
    page.rows.push_back(internal::read_pair(row.value()));
  }
  return page;
}

Result<int64_t> Project::count(const PageRequest& request) {
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, request.filter.score_model_id);
  if (!model) return model.status();
  if (Status s = refresh_matches(c, impl_->matches, request.filter); !s) return s;
  return count_pairs(c, impl_->counts, request, model.value());
}

Result<std::optional<SortKey>> Project::key_at(const PageRequest& request, int64_t position) {
  if (position < 0) return std::optional<SortKey>();
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, request.filter.score_model_id);
  if (!model) return model.status();
  if (Status s = refresh_matches(c, impl_->matches, request.filter); !s) return s;
  // With a count that costs nothing, a position past the middle is walked from the end.
  int64_t total = -1;
  if (!request.after) {
    auto fast = counted(c, request, model.value());
    if (!fast) return fast.status();
    if (fast->has_value()) total = **fast;
  }
  auto keys = page_keys(c, impl_->positions, request, model.value(), position, 1, total,
                        sort_matches(impl_->matches));
  if (!keys) return keys.status();
  if (keys->empty()) return std::optional<SortKey>();
  return std::optional<SortKey>(keys->front());
}

}  // namespace capfilt::db
