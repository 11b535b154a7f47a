#pragma once
// The project's pairs as a table (image, caption, source, ITM, ITC, decision, decided), over a
// PairPageCache: a row's page is fetched when a view first asks for it, never the whole table.
// data() of a row whose page is not cached answers "…" and schedules the fetch for the next turn
// of the event loop; the page is fetched on a worker thread (PageFetcher, its own connection), so
// a slow page deep in a big list never blocks the GUI thread, and dataChanged repaints it when it
// arrives. The row count comes with the first page, on the GUI thread. Thumbnails come from a
// ThumbnailLoader (decoded off the GUI thread).
//
// GUI thread. The document and the loader are not owned and must outlive the model.

#include <QAbstractTableModel>
#include <QSet>

#include <memory>

#include "ui/shared/pair_page_cache.h"

namespace capfilt::ui {

class PageFetcher;
class ProjectDocument;
class ThumbnailLoader;

class PairTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kImage, kCaption, kSource, kItm, kItc, kDecision, kDecidedBy, kDecided, kColumnCount };
  static constexpr int kCaptionIdRole = Qt::UserRole + 1;

  PairTableModel(ProjectDocument* document, ThumbnailLoader* thumbnails, QObject* parent = nullptr);
  ~PairTableModel() override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  void sort(int column, Qt::SortOrder order) override;

  void setFilter(const db::PairFilter& filter);
  const db::PairFilter& filter() const { return cache_.filter(); }
  // Caption id of a row, fetching its page if needed; 0 when out of range.
  int64_t captionIdAt(int row);
  // Sends the scheduled page requests now (the event loop does this by itself).
  void fetchPending();
  // Pages fetched so far: on the GUI thread (the first) and on the worker.
  int64_t pageFetches() const { return cache_.fetches() + async_fetches_; }

 public Q_SLOTS:
  // The project changed: cached pages are stale. Keeps the row count when it did not change.
  void refresh();

 private:
  void thumbnailReady(const QString& path);
  void pageArrived(quint64 generation, qint64 page, std::shared_ptr<const db::Page> rows,
                   const QString& error);

  ProjectDocument* document_;
  ThumbnailLoader* thumbnails_;
  mutable PairPageCache cache_;
  int64_t rows_ = 0;
  mutable QSet<int64_t> wanted_pages_;
  mutable bool fetch_scheduled_ = false;
  QSet<int64_t> in_flight_;
  int64_t async_fetches_ = 0;
  std::unique_ptr<PageFetcher> fetcher_;
};

}  // namespace capfilt::ui
