#include "ui/shared/pair_page_cache.h"

#include <algorithm>

namespace capfilt::ui {

PairPageCache::PairPageCache(db::Project* project, int page_size, int max_pages)
    : project_(project), page_size_(page_size), max_pages_(max_pages) {}

void PairPageCache::setQuery(const db::PairFilter& filter, db::PairSort sort, bool descending) {
  filter_ = filter;
  sort_ = sort;
  descending_ = descending;
  invalidate();
}

void PairPageCache::invalidate() {
  ++generation_;
  pages_.clear();
  recent_.clear();
  total_ = -1;
}

int64_t PairPageCache::total() {
  if (total_ < 0 && !fetchPage(0)) return 0;
  return std::max<int64_t>(total_, 0);
}

bool PairPageCache::fetchPage(int64_t page) {
  if (pages_.count(page)) {
    touch(page);
    return true;
  }
  auto result = project_->page(requestFor(page));
  ++fetches_;
  if (!result) {
    last_error_ = result.status();
    return false;
  }
  last_error_ = Status::ok();
  insertPage(page, std::move(result->rows), result->total);
  return true;
}

db::PageRequest PairPageCache::requestFor(int64_t page) const {
  db::PageRequest request;
  request.filter = filter_;
  request.sort = sort_;
  request.descending = descending_;
  request.offset = page * page_size_;
  request.limit = page_size_;
  return request;
}

void PairPageCache::insertPage(int64_t page, std::vector<db::PairRow> rows, int64_t total) {
  total_ = total;
  pages_[page] = std::move(rows);
  touch(page);
  while (static_cast<int>(recent_.size()) > max_pages_) {
    pages_.erase(recent_.back());
    recent_.pop_back();
  }
}

const db::PairRow* PairPageCache::rowAt(int64_t position, bool fetch) {
  if (position < 0) return nullptr;
  const int64_t page = position / page_size_;
  auto it = pages_.find(page);
  if (it == pages_.end()) {
    if (!fetch || !fetchPage(page)) return nullptr;
    it = pages_.find(page);
  }
  const size_t index = static_cast<size_t>(position % page_size_);
  if (index >= it->second.size()) return nullptr;
  return &it->second[index];
}

std::vector<int64_t> PairPageCache::cachedPositionsOfImage(const std::string& path) const {
  std::vector<int64_t> positions;
  for (const auto& [page, rows] : pages_) {
    for (size_t k = 0; k < rows.size(); ++k) {
      if (rows[k].image.path == path) positions.push_back(page * page_size_ + static_cast<int64_t>(k));
    }
  }
  return positions;
}

void PairPageCache::touch(int64_t page) {
  recent_.remove(page);
  recent_.push_front(page);
}

}  // namespace capfilt::ui
