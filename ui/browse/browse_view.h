#pragma once
// Browsing the whole project: a filter bar (decision, source, split, ITM range, full-text search),
// the count of matching pairs, a table (or a grid of thumbnails) whose rows are fetched page by page as the user scrolls,
// jump to any position, and bulk keep/drop of the selected or of all matching pairs (one
// transaction, one undo step, after a confirmation naming the count).

#include <QWidget>

#include <functional>

#include "db/records.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListView;
class QStackedWidget;
class QSpinBox;
class QTableView;

namespace capfilt::ui {

class PairTableModel;
class ProjectDocument;
class ThumbnailLoader;

class BrowseView : public QWidget {
  Q_OBJECT

 public:
  // The pointers are not owned and must outlive the view.
  BrowseView(ProjectDocument* document, ThumbnailLoader* thumbnails, QWidget* parent = nullptr);

  PairTableModel* model() const { return model_; }
  QTableView* table() const { return table_; }
  QListView* grid() const { return grid_; }
  void setGridMode(bool grid);
  QString countText() const;
  // Asked before a bulk decision with the sentence naming the count; tests replace the dialog.
  void setConfirm(std::function<bool(const QString&)> confirm) { confirm_ = std::move(confirm); }

  void setSearchText(const QString& text);
  void setDecisionFilter(int index);  // 0 any, 1 undecided, 2 keep, 3 drop
  void setSourceFilter(int index);    // 0 any, 1 web, 2 synthetic, 3 human

 public Q_SLOTS:
  void applyFilter();
  void jumpTo(int row);
  // Keeps or drops the selected rows, or every pair matching the filter.
  void bulkDecide(db::Decision decision, bool all_matching);

 Q_SIGNALS:
  // The user asked to review this pair (double-click or Enter on a row).
  void reviewRequested(qint64 caption_id, const QString& image_path);

 private:
  void activated(const QModelIndex& index);
  void updateCount();

  ProjectDocument* document_;
  PairTableModel* model_;
  QTableView* table_;
  QListView* grid_;
  QStackedWidget* views_;
  QComboBox* decision_;
  QComboBox* source_;
  QComboBox* split_;
  QDoubleSpinBox* itm_min_;
  QDoubleSpinBox* itm_max_;
  QLineEdit* search_;
  QLabel* count_;
  QSpinBox* jump_;
  std::function<bool(const QString&)> confirm_;
};

}  // namespace capfilt::ui
