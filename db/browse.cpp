// The browsing queries: pages of pairs, the export walk, counts and score histograms.

#include <algorithm>
#include <cmath>

#include "db/project.h"
#include "db/project_impl.h"
#include "db/query.h"

namespace capfilt::db {

using internal::Connection;
using internal::Query;
using internal::add_in_list;
using internal::add_range;
using internal::has_score_range;
using internal::kPairColumns;
using internal::read_pair;
using internal::query_error;
using internal::ReadTransaction;
using internal::Stmt;

namespace internal {

const char* const kPairColumns =
    "c.id, c.image_id, i.path, i.width, i.height, i.byte_size, i.content_hash, i.split, c.text, "
    "c.source, coalesce(c.model_id, 0), c.decision, c.decided_ms, s.itm, s.itc, "
    // Who made the current decision: the newest log row not undone (two index lookups).
    "(SELECT CASE d.origin WHEN 'auto' THEN 'auto' ELSE d.curator END FROM decisions d "
    " WHERE d.caption_id = c.id AND NOT EXISTS "
    " (SELECT 1 FROM decision_undos u WHERE u.decision_id = d.id) ORDER BY d.id DESC LIMIT 1) ";

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
  if (!stmt.is_null(15)) r.decided_by = stmt.text(15);
  return r;
}

Status query_error(Connection& c, const PairFilter& f, const std::string& what, int rc) {
  if ((rc & 0xff) == SQLITE_ERROR && !f.text_query.empty())
    return Status::invalid("project " + c.path() + ": cannot search for \"" + f.text_query +
                           "\": " + sqlite3_errmsg(c.handle()));
  return c.error(what, rc);
}

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
  // caption_counts is kept current by triggers on captions (schema migration 7).
  auto stmt = c.prepare("SELECT decision, sum(n) FROM caption_counts GROUP BY decision");
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
  std::vector<ScoreHistogram> out;
  for (CaptionSource src : {CaptionSource::kWeb, CaptionSource::kSynthetic, CaptionSource::kHuman})
    out.push_back({src, std::vector<int64_t>(static_cast<size_t>(bins), 0)});
  std::vector<bool> seen(3, false);
  // score_bins counts scores in 1000 fine bins (kept current by triggers, schema migration 7): a
  // bin count dividing 1000 sums them (a few thousand rows); any other walks every score.
  const bool from_bins = internal::kScoreBins % bins == 0;
  auto stmt = c.prepare(from_bins ? "SELECT source, bin, sum(n) FROM score_bins WHERE model_id = ?1 "
                                    "GROUP BY source, bin HAVING sum(n) > 0"
                                  : "SELECT source, itm, 1 FROM scores WHERE model_id = ?1");
  if (!stmt) return stmt.status();
  stmt->bind_i64(1, model.value());
  const int64_t fine_per_bin = internal::kScoreBins / bins;
  int rc;
  while ((rc = stmt->step()) == SQLITE_ROW) {
    CaptionSource src = CaptionSource::kWeb;
    if (!parse(stmt->text(0), &src)) continue;
    const auto k = static_cast<size_t>(src);
    const int64_t bin = from_bins ? stmt->i64(1) / fine_per_bin
                                  : internal::score_bin(stmt->f64(1), bins);
    out[k].counts[static_cast<size_t>(std::clamp<int64_t>(bin, 0, bins - 1))] += stmt->i64(2);
    seen[k] = true;
  }
  if (rc != SQLITE_DONE) return c.error("computing the score histogram", rc);
  std::vector<ScoreHistogram> present;
  for (size_t j = 0; j < out.size(); ++j)
    if (seen[j]) present.push_back(std::move(out[j]));
  return present;
}

}  // namespace capfilt::db
