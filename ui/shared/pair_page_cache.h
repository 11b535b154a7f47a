#pragma once
// A window of pages over a filtered, sorted list of pairs: rows are fetched by position, one page
// (db::Project::page) at a time, and only the most recently used pages are kept. Nothing ever
// loads the whole list. Used by the browse table and the review's pair sequence.
//
// Not thread-safe; the GUI thread. `project` is not owned and must outlive the cache.

#include <QtGlobal>

#include <cstdint>
#include <list>
#include <map>
#include <vector>

#include "db/project.h"

namespace capfilt::ui {

class PairPageCache {
 public:
  explicit PairPageCache(db::Project* project, int page_size = 100, int max_pages = 40);

  void setQuery(const db::PairFilter& filter, db::PairSort sort, bool descending);
  const db::PairFilter& filter() const { return filter_; }
  db::PairSort sort() const { return sort_; }
  bool descending() const { return descending_; }
  int pageSize() const { return page_size_; }

  // Pairs matching the filter (fetches the first page when not known yet); 0 on error.
  int64_t total();
  // The row at `position`, or nullptr when its page is not cached (fetch = false) or the position
  // is out of range / the fetch failed (see lastError).
  const db::PairRow* rowAt(int64_t position, bool fetch = true);
  bool hasPage(int64_t page) const { return pages_.count(page) > 0; }
  // Fetches page `page` (no-op when cached). False on error.
  bool fetchPage(int64_t page);
  // Forgets every page and the total (after decisions changed them).
  void invalidate();
  // Stores a page fetched elsewhere (PageFetcher) for the current query.
  void insertPage(int64_t page, std::vector<db::PairRow> rows, int64_t total);
  // The request that fetches `page` of the current query.
  db::PageRequest requestFor(int64_t page) const;
  // Changes whenever the query or the data behind it changes (setQuery, invalidate).
  quint64 generation() const { return generation_; }
  // Positions of cached rows whose image path is `path` (to refresh them when a thumbnail arrives).
  std::vector<int64_t> cachedPositionsOfImage(const std::string& path) const;

  const Status& lastError() const { return last_error_; }
  int64_t fetches() const { return fetches_; }

 private:
  void touch(int64_t page);

  db::Project* project_;
  const int page_size_;
  const int max_pages_;
  db::PairFilter filter_;
  db::PairSort sort_ = db::PairSort::kCaptionId;
  bool descending_ = false;
  int64_t total_ = -1;  // -1: unknown
  std::map<int64_t, std::vector<db::PairRow>> pages_;
  std::list<int64_t> recent_;  // most recently used first
  Status last_error_;
  int64_t fetches_ = 0;
  quint64 generation_ = 1;
};

}  // namespace capfilt::ui
