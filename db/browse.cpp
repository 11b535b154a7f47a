// The browsing queries: pages of pairs, the export walk, counts and score histograms.

#include <algorithm>
#include <cmath>

#include "db/project.h"
#include "db/project_impl.h"

namespace capfilt::db {

using internal::Connection;
using internal::ReadTransaction;
using internal::Stmt;

namespace internal {

Result<int64_t> resolve_score_model(Connection& c, int64_t requested) {
  if (requested != 0) return requested;
  auto stmt = c.prepare("SELECT coalesce(max(model_id), 0) FROM scores");
  if (!stmt) return stmt.status();
  int rc = stmt->step();
  if (rc != SQLITE_ROW) return c.error("finding the score model", rc);
  return stmt->i64(0);
}

}  // namespace internal

namespace {

// A query assembled from constant SQL pieces and the values bound to its `?` parameters.
struct Query {
  struct Value {
    bool is_text = false;
    bool is_real = false;
    int64_t i = 0;
    double f = 0;
    std::string s;
  };
  std::string sql;
  std::vector<Value> values;

  void add(const std::string& piece) { sql += piece; }
  void text(const std::string& v) { sql += "?"; values.push_back({true, false, 0, 0, v}); }
  void integer(int64_t v) { sql += "?"; values.push_back({false, false, v, 0, {}}); }
  void real(double v) { sql += "?"; values.push_back({false, true, 0, v, {}}); }
  void bind(Stmt& stmt) const {
    for (size_t k = 0; k < values.size(); ++k) {
      const int index = static_cast<int>(k + 1);
      if (values[k].is_text) stmt.bind_text(index, values[k].s);
      else if (values[k].is_real) stmt.bind_f64(index, values[k].f);
      else stmt.bind_i64(index, values[k].i);
    }
  }
};

const char* const kPairColumns =
    "c.id, c.image_id, i.path, i.width, i.height, i.byte_size, i.content_hash, i.split, c.text, "
    "c.source, coalesce(c.model_id, 0), c.decision, c.decided_ms, s.itm, s.itc ";

bool has_score_range(const PairFilter& f) {
  return f.itm_min || f.itm_max || f.itc_min || f.itc_max;
}

template <typename E>
void add_in_list(Query& q, const char* column, const std::vector<E>& values) {
  if (values.empty()) return;
  q.add(std::string(" AND ") + column + " IN (");
  for (size_t k = 0; k < values.size(); ++k) {
    if (k > 0) q.add(", ");
    q.text(to_string(values[k]));
  }
  q.add(")");
}

void add_range(Query& q, const char* column, const std::optional<double>& lo,
               const std::optional<double>& hi) {
  if (lo) { q.add(std::string(" AND ") + column + " >= "); q.real(*lo); }
  if (hi) { q.add(std::string(" AND ") + column + " <= "); q.real(*hi); }
}

// FROM ... WHERE ... for `filter`. Pairs join the score model's scores: inner when the scores
// must exist (a score range or a score order), left otherwise. A count joins only the tables its
// filter reads: every caption has exactly one image and at most one score per model, so the other
// joins cannot change it, and skipping them saves a lookup per row.
void add_from_where(Query& q, const PairFilter& f, int64_t model_id, bool scored_only,
                    bool count_only = false) {
  q.add("FROM captions c ");
  if (!count_only || !f.split.empty()) q.add("JOIN images i ON i.id = c.image_id ");
  if (!count_only || scored_only) {
    q.add(scored_only ? "JOIN " : "LEFT JOIN ");
    q.add("scores s ON s.caption_id = c.id AND s.model_id = ");
    q.integer(model_id);
  }
  q.add(" WHERE 1");
  add_in_list(q, "c.decision", f.decisions);
  // Scores carry their caption's source: filtering there lets a score-ordered walk skip other
  // sources. A count goes the other way, from the (source, decision) index of captions to the
  // compact scores table; looking up a wide caption row per score measured 15 times slower.
  add_in_list(q, scored_only && !count_only ? "s.source" : "c.source", f.sources);
  if (!f.split.empty()) { q.add(" AND i.split = "); q.text(f.split); }
  add_range(q, "s.itm", f.itm_min, f.itm_max);
  add_range(q, "s.itc", f.itc_min, f.itc_max);
  if (!f.text_query.empty()) {
    q.add(" AND c.id IN (SELECT rowid FROM captions_fts WHERE captions_fts MATCH ");
    q.text(f.text_query);
    q.add(")");
  }
}

// FROM ... WHERE ... of a page's total. When only score columns are filtered, the scores table
// alone answers it (each score has its caption, by foreign key).
void add_count_from_where(Query& q, const PairFilter& f, int64_t model_id, bool scored_only) {
  const bool needs_captions =
      !scored_only || !f.decisions.empty() || !f.text_query.empty() || !f.split.empty();
  if (needs_captions) return add_from_where(q, f, model_id, scored_only, /*count_only=*/true);
  q.add("FROM scores s WHERE s.model_id = ");
  q.integer(model_id);
  add_in_list(q, "s.source", f.sources);
  add_range(q, "s.itm", f.itm_min, f.itm_max);
  add_range(q, "s.itc", f.itc_min, f.itc_max);
}

const char* order_by(PairSort sort, bool descending) {
  switch (sort) {
    case PairSort::kItm: return descending ? " ORDER BY s.itm DESC, c.id DESC" : " ORDER BY s.itm, c.id";
    case PairSort::kItc: return descending ? " ORDER BY s.itc DESC, c.id DESC" : " ORDER BY s.itc, c.id";
    case PairSort::kPath: return descending ? " ORDER BY i.path DESC, c.id DESC" : " ORDER BY i.path, c.id";
    case PairSort::kDecidedTime:
      return descending ? " ORDER BY c.decided_ms DESC, c.id DESC" : " ORDER BY c.decided_ms, c.id";
    case PairSort::kCaptionId: break;
  }
  return descending ? " ORDER BY c.id DESC" : " ORDER BY c.id";
}

PairRow read_pair(const Stmt& stmt) {
  PairRow r;
  r.caption_id = stmt.i64(0);
  r.image_id = stmt.i64(1);
  r.image.path = stmt.text(2);
  r.image.width = static_cast<int>(stmt.i64(3));
  r.image.height = static_cast<int>(stmt.i64(4));
  r.image.byte_size = stmt.i64(5);
  r.image.content_hash = stmt.text(6);
  r.image.split = stmt.text(7);
  r.caption.text = stmt.text(8);
  parse(stmt.text(9), &r.caption.source);
  r.caption.model_id = stmt.i64(10);
  parse(stmt.text(11), &r.decision);
  r.decided_ms = stmt.i64(12);
  if (!stmt.is_null(13)) r.itm = stmt.f64(13);
  if (!stmt.is_null(14)) r.itc = stmt.f64(14);
  return r;
}

// A query failing on a bad FTS5 expression is the curator's input, not a broken database.
Status query_error(Connection& c, const PairFilter& f, const std::string& what, int rc) {
  if ((rc & 0xff) == SQLITE_ERROR && !f.text_query.empty())
    return Status::invalid("project " + c.path() + ": cannot search for \"" + f.text_query +
                           "\": " + sqlite3_errmsg(c.handle()));
  return c.error(what, rc);
}

// Runs `q`, calling `visit` per row; stops at the first non-ok Status from `visit`.
Status run_pairs(Connection& c, const PairFilter& f, const Query& q,
                 const std::function<Status(const PairRow&)>& visit) {
  auto stmt = c.prepare(q.sql);
  if (!stmt) return stmt.status();
  q.bind(stmt.value());
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    if (Status s = visit(read_pair(stmt.value())); !s) return s;
  }
  if (rc != SQLITE_DONE) return query_error(c, f, "listing pairs", rc);
  return Status::ok();
}

}  // namespace

Result<Page> Project::page(const PageRequest& request) {
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, request.filter.score_model_id);
  if (!model) return model.status();
  const bool scored_only = has_score_range(request.filter) || request.sort == PairSort::kItm ||
                           request.sort == PairSort::kItc;
  Query count;
  count.add("SELECT count(*) ");
  add_count_from_where(count, request.filter, model.value(), scored_only);
  auto stmt = c.prepare(count.sql);
  if (!stmt) return stmt.status();
  count.bind(stmt.value());
  int rc = stmt->step();
  if (rc != SQLITE_ROW) return query_error(c, request.filter, "counting pairs", rc);
  Page page;
  page.total = stmt->i64(0);
  stmt = Stmt();

  Query rows;
  rows.add(std::string("SELECT ") + kPairColumns);
  add_from_where(rows, request.filter, model.value(), scored_only);
  rows.add(order_by(request.sort, request.descending));
  rows.add(" LIMIT ");
  rows.integer(std::max<int64_t>(0, request.limit));
  rows.add(" OFFSET ");
  rows.integer(std::max<int64_t>(0, request.offset));
  Status s = run_pairs(c, request.filter, rows, [&](const PairRow& r) {
    page.rows.push_back(r);
    return Status::ok();
  });
  if (!s) return s;
  return page;
}

Status Project::for_each_pair(const PairFilter& filter,
                              const std::function<Status(const PairRow&)>& visit) {
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, filter.score_model_id);
  if (!model) return model.status();
  Query q;
  q.add(std::string("SELECT ") + kPairColumns);
  add_from_where(q, filter, model.value(), has_score_range(filter));
  q.add(" ORDER BY i.path, c.id");
  return run_pairs(c, filter, q, visit);
}

Result<PairRow> Project::pair(int64_t caption_id) {
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, 0);
  if (!model) return model.status();
  Query q;
  q.add(std::string("SELECT ") + kPairColumns);
  add_from_where(q, PairFilter{}, model.value(), false);
  q.add(" AND c.id = ");
  q.integer(caption_id);
  std::optional<PairRow> found;
  Status s = run_pairs(c, PairFilter{}, q, [&](const PairRow& r) {
    found = r;
    return Status::ok();
  });
  if (!s) return s;
  if (!found) return Status::not_found("project " + path_ + ": no caption " +
                                       std::to_string(caption_id));
  return *found;
}

Result<DecisionCounts> Project::decision_counts() {
  Connection& c = *impl_->connection;
  auto stmt = c.prepare("SELECT decision, count(*) FROM captions GROUP BY decision");
  if (!stmt) return stmt.status();
  DecisionCounts counts;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    Decision d = Decision::kUndecided;
    parse(stmt->text(0), &d);
    int64_t n = stmt->i64(1);
    if (d == Decision::kKeep) counts.keep = n;
    else if (d == Decision::kDrop) counts.drop = n;
    else counts.undecided = n;
  }
  if (rc != SQLITE_DONE) return c.error("counting decisions", rc);
  return counts;
}

Result<std::vector<ScoreHistogram>> Project::itm_histogram(int bins, int64_t model_id) {
  if (bins < 1) return Status::invalid("a histogram needs at least one bin");
  Connection& c = *impl_->connection;
  ReadTransaction snapshot(c);
  if (Status s = snapshot.begin(); !s) return s;
  auto model = internal::resolve_score_model(c, model_id);
  if (!model) return model.status();
  // Walks the (model, source, itm) index and bins here: SQL's GROUP BY would sort 1M rows.
  auto stmt = c.prepare("SELECT source, itm FROM scores WHERE model_id = ?1 ORDER BY source, itm");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, model.value());
  std::vector<ScoreHistogram> out;
  for (CaptionSource src : {CaptionSource::kWeb, CaptionSource::kSynthetic, CaptionSource::kHuman})
    out.push_back({src, std::vector<int64_t>(static_cast<size_t>(bins), 0)});
  std::vector<bool> seen(3, false);
  std::string last_name;
  size_t k = 0;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    std::string name = stmt->text(0);
    if (name != last_name) {
      CaptionSource src = CaptionSource::kWeb;
      parse(name, &src);
      k = static_cast<size_t>(src);
      last_name = std::move(name);
    }
    const double bin = std::floor(stmt->f64(1) * bins);
    out[k].counts[static_cast<size_t>(std::clamp(bin, 0.0, bins - 1.0))] += 1;
    seen[k] = true;
  }
  if (rc != SQLITE_DONE) return c.error("computing the score histogram", rc);
  std::vector<ScoreHistogram> present;
  for (size_t j = 0; j < out.size(); ++j)
    if (seen[j]) present.push_back(std::move(out[j]));
  return present;
}

}  // namespace capfilt::db
