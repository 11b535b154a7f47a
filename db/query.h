#pragma once
// Internal to db/: SQL assembled from constant pieces and bound values, and what every pair query
// shares (its columns, its row reader, its error for a bad search).

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/records.h"
#include "db/sqlite.h"

namespace capfilt::db::internal {

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

// The columns read_pair() reads, over captions c, images i and scores s.
extern const char* const kPairColumns;
PairRow read_pair(const Stmt& stmt);

inline bool has_score_range(const PairFilter& f) {
  return f.itm_min || f.itm_max || f.itc_min || f.itc_max;
}

// " AND column IN (?, ...)" for a non-empty list.
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

inline void add_range(Query& q, const char* column, const std::optional<double>& lo,
                      const std::optional<double>& hi) {
  if (lo) { q.add(std::string(" AND ") + column + " >= "); q.real(*lo); }
  if (hi) { q.add(std::string(" AND ") + column + " <= "); q.real(*hi); }
}

// A query failing on a bad FTS5 expression is the curator's input, not a broken database.
Status query_error(Connection& c, const PairFilter& f, const std::string& what, int rc);

// The fine bins of score_bins (schema migration 7): a score's bin is min(max(floor(itm * 1000), 0),
// 999). A histogram of `bins` bins (bins dividing 1000) adds up 1000 / bins of them per bin, which
// is floor(itm * bins) clamped, as for any other bin count (up to the rounding of a score within
// an ulp of a bin edge).
inline constexpr int64_t kScoreBins = 1000;
inline int64_t score_bin(double itm, int64_t bins) {
  const double bin = std::floor(itm * static_cast<double>(bins));
  if (!(bin >= 0)) return 0;  // also NaN
  return bin >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<int64_t>(bin);
}

}  // namespace capfilt::db::internal
