#include "ui/browse/pair_table_model.h"

#include <QDateTime>
#include <QPixmap>
#include <QTimer>

#include <limits>

#include "ui/shared/page_fetcher.h"
#include "ui/shared/project_document.h"
#include "ui/shared/thumbnail_loader.h"

namespace capfilt::ui {

namespace {
constexpr int64_t kMaxRows = std::numeric_limits<int>::max();  // what a Qt row index can hold
}

PairTableModel::PairTableModel(ProjectDocument* document, ThumbnailLoader* thumbnails,
                               QObject* parent)
    : QAbstractTableModel(parent), document_(document), thumbnails_(thumbnails),
      cache_(&document->project(), 100, 40) {
  fetcher_ = std::make_unique<PageFetcher>(document->path());
  connect(fetcher_.get(), &PageFetcher::fetched, this, &PairTableModel::pageArrived);
  cache_.setQuery({}, db::PairSort::kCaptionId, false);
  rows_ = std::min(cache_.total(), kMaxRows);
  connect(document_, &ProjectDocument::decisionsChanged, this, &PairTableModel::refresh);
  if (thumbnails_)
    connect(thumbnails_, &ThumbnailLoader::ready, this, &PairTableModel::thumbnailReady);
}

PairTableModel::~PairTableModel() = default;

int PairTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_);
}

int PairTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant PairTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  const db::PairRow* row = cache_.rowAt(index.row(), /*fetch=*/false);
  if (!row) {
    if (role == Qt::DisplayRole) {
      wanted_pages_.insert(index.row() / cache_.pageSize());
      if (!fetch_scheduled_) {
        fetch_scheduled_ = true;
        QTimer::singleShot(0, const_cast<PairTableModel*>(this), &PairTableModel::fetchPending);
      }
      return QStringLiteral("…");
    }
    return {};
  }
  if (role == kCaptionIdRole) return QVariant::fromValue<qlonglong>(row->caption_id);
  const int column = index.column();
  if (role == Qt::DecorationRole && column == kImage && thumbnails_)
    return thumbnails_->pixmap(QString::fromStdString(row->image.path));
  if (role == Qt::ToolTipRole && column == kImage && thumbnails_) {
    const QString error = thumbnails_->error(QString::fromStdString(row->image.path));
    return error.isEmpty() ? QVariant(QString::fromStdString(row->image.path)) : QVariant(error);
  }
  if (role == Qt::TextAlignmentRole && (column == kItm || column == kItc))
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  switch (column) {
    case kImage: return QString::fromStdString(row->image.path);
    case kCaption: return QString::fromStdString(row->caption.text);
    case kSource: return QString::fromLatin1(db::to_string(row->caption.source));
    case kItm: return row->itm ? QString::number(*row->itm, 'f', 3) : QString();
    case kItc: return row->itc ? QString::number(*row->itc, 'f', 3) : QString();
    case kDecision: return QString::fromLatin1(db::to_string(row->decision));
    case kDecidedBy: return QString::fromStdString(row->decided_by);
    case kDecided:
      return row->decided_ms ? QDateTime::fromMSecsSinceEpoch(row->decided_ms)
                                   .toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                             : QString();
  }
  return {};
}

QVariant PairTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return QString::number(section + 1);
  switch (section) {
    case kImage: return tr("Image");
    case kCaption: return tr("Caption");
    case kSource: return tr("Source");
    case kItm: return tr("ITM");
    case kItc: return tr("ITC");
    case kDecision: return tr("Decision");
    case kDecidedBy: return tr("By");
    case kDecided: return tr("Decided");
  }
  return {};
}

void PairTableModel::sort(int column, Qt::SortOrder order) {
  db::PairSort sort = db::PairSort::kCaptionId;
  switch (column) {
    case kImage: sort = db::PairSort::kPath; break;
    case kItm: sort = db::PairSort::kItm; break;
    case kItc: sort = db::PairSort::kItc; break;
    case kDecided: sort = db::PairSort::kDecidedTime; break;
    default: break;
  }
  beginResetModel();
  in_flight_.clear();
  cache_.setQuery(cache_.filter(), sort, order == Qt::DescendingOrder);
  rows_ = std::min(cache_.total(), kMaxRows);
  endResetModel();
}

void PairTableModel::setFilter(const db::PairFilter& filter) {
  beginResetModel();
  in_flight_.clear();
  cache_.setQuery(filter, cache_.sort(), cache_.descending());
  rows_ = std::min(cache_.total(), kMaxRows);
  endResetModel();
}

int64_t PairTableModel::captionIdAt(int row) {
  const db::PairRow* pair = cache_.rowAt(row, /*fetch=*/true);
  return pair ? pair->caption_id : 0;
}

void PairTableModel::fetchPending() {
  fetch_scheduled_ = false;
  const QSet<int64_t> pages = wanted_pages_;
  wanted_pages_.clear();
  const quint64 generation = cache_.generation();
  fetcher_->setGeneration(generation);
  for (int64_t page : pages) {
    if (cache_.hasPage(page) || in_flight_.contains(page)) continue;
    in_flight_.insert(page);
    ++async_fetches_;
    fetcher_->request(generation, page, cache_.requestFor(page));
  }
}

void PairTableModel::pageArrived(quint64 generation, qint64 page,
                                 std::shared_ptr<const db::Page> rows, const QString& error) {
  if (generation != cache_.generation()) return;  // for a query or data that changed since
  in_flight_.remove(page);
  if (!rows) {
    qWarning("page %lld: %s", static_cast<long long>(page), qPrintable(error));
    return;
  }
  cache_.insertPage(page, rows->rows, rows->total);
  const int first = static_cast<int>(page * cache_.pageSize());
  const int last = std::min<int>(rowCount() - 1, first + cache_.pageSize() - 1);
  if (first <= last) Q_EMIT dataChanged(index(first, 0), index(last, kColumnCount - 1));
}

void PairTableModel::refresh() {
  in_flight_.clear();
  cache_.invalidate();
  const int64_t rows = std::min(cache_.total(), kMaxRows);
  if (rows != rows_) {
    beginResetModel();
    rows_ = rows;
    endResetModel();
  } else if (rows_ > 0) {
    Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(rows_) - 1, kColumnCount - 1));
  }
}

void PairTableModel::thumbnailReady(const QString& path) {
  for (int64_t position : cache_.cachedPositionsOfImage(path.toStdString())) {
    if (position >= rows_) continue;
    const QModelIndex cell = index(static_cast<int>(position), kImage);
    Q_EMIT dataChanged(cell, cell, {Qt::DecorationRole, Qt::ToolTipRole});
  }
}

}  // namespace capfilt::ui
