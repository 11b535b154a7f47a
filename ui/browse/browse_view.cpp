#include "ui/browse/browse_view.h"

#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QStackedWidget>
#include <QCheckBox>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include <set>

#include "ui/browse/pair_table_model.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {

BrowseView::BrowseView(ProjectDocument* document, ThumbnailLoader* thumbnails, QWidget* parent)
    : QWidget(parent), document_(document) {
  model_ = new PairTableModel(document, thumbnails, this);
  auto* outer = new QVBoxLayout(this);

  auto* filters = new QHBoxLayout;
  decision_ = new QComboBox(this);
  decision_->addItems({tr("any decision"), tr("undecided"), tr("keep"), tr("drop")});
  source_ = new QComboBox(this);
  source_->addItems({tr("any source"), tr("web"), tr("synthetic"), tr("human")});
  split_ = new QComboBox(this);
  split_->addItems({tr("any split"), "train", "val", "test"});
  itm_min_ = new QDoubleSpinBox(this);
  itm_max_ = new QDoubleSpinBox(this);
  for (auto* box : {itm_min_, itm_max_}) {
    box->setRange(0, 1);
    box->setSingleStep(0.05);
    box->setDecimals(2);
  }
  itm_max_->setValue(1);
  itm_min_->setPrefix(tr("ITM ≥ "));
  itm_max_->setPrefix(tr("ITM ≤ "));
  search_ = new QLineEdit(this);
  search_->setPlaceholderText(tr("search captions (e.g. red circle, dog OR cat)"));
  search_->setClearButtonEnabled(true);
  for (QWidget* w : std::initializer_list<QWidget*>{decision_, source_, split_, itm_min_, itm_max_})
    filters->addWidget(w);
  filters->addWidget(search_, 1);
  outer->addLayout(filters);

  connect(decision_, &QComboBox::currentIndexChanged, this, &BrowseView::applyFilter);
  connect(source_, &QComboBox::currentIndexChanged, this, &BrowseView::applyFilter);
  connect(split_, &QComboBox::currentIndexChanged, this, &BrowseView::applyFilter);
  connect(itm_min_, &QDoubleSpinBox::valueChanged, this, &BrowseView::applyFilter);
  connect(itm_max_, &QDoubleSpinBox::valueChanged, this, &BrowseView::applyFilter);
  connect(search_, &QLineEdit::returnPressed, this, &BrowseView::applyFilter);

  table_ = new QTableView(this);
  table_->setModel(model_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setIconSize(QSize(48, 48));
  table_->verticalHeader()->setDefaultSectionSize(52);
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  table_->horizontalHeader()->setSectionResizeMode(PairTableModel::kCaption, QHeaderView::Stretch);
  // The caption takes what the others leave.
  table_->setColumnWidth(PairTableModel::kImage, 250);
  table_->setColumnWidth(PairTableModel::kSource, 80);
  table_->setColumnWidth(PairTableModel::kItm, 64);
  table_->setColumnWidth(PairTableModel::kItc, 64);
  table_->setColumnWidth(PairTableModel::kDecision, 72);
  table_->setColumnWidth(PairTableModel::kDecidedBy, 90);
  table_->setColumnWidth(PairTableModel::kDecided, 140);
  table_->setWordWrap(false);
  // The grid shares the model: the same pages, the thumbnails of column 0. Uniform item sizes keep
  // it virtualised (no per-item size query over the whole list).
  grid_ = new QListView(this);
  grid_->setModel(model_);
  grid_->setModelColumn(PairTableModel::kImage);
  grid_->setViewMode(QListView::IconMode);
  grid_->setUniformItemSizes(true);
  grid_->setIconSize(QSize(96, 96));
  grid_->setGridSize(QSize(150, 140));
  grid_->setResizeMode(QListView::Adjust);
  grid_->setMovement(QListView::Static);
  grid_->setSelectionModel(table_->selectionModel());
  grid_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  connect(table_, &QAbstractItemView::activated, this, &BrowseView::activated);
  connect(grid_, &QAbstractItemView::activated, this, &BrowseView::activated);
  views_ = new QStackedWidget(this);
  views_->addWidget(table_);
  views_->addWidget(grid_);
  outer->addWidget(views_, 1);

  auto* bottom = new QHBoxLayout;
  count_ = new QLabel(this);
  bottom->addWidget(count_);
  auto* grid_mode = new QCheckBox(tr("Thumbnail grid"), this);
  connect(grid_mode, &QCheckBox::toggled, this, &BrowseView::setGridMode);
  bottom->addWidget(grid_mode);
  bottom->addStretch(1);
  bottom->addWidget(new QLabel(tr("Go to #"), this));
  jump_ = new QSpinBox(this);
  jump_->setRange(1, std::max(1, model_->rowCount()));
  jump_->setKeyboardTracking(false);
  connect(jump_, &QSpinBox::valueChanged, this, [this](int v) { jumpTo(v - 1); });
  bottom->addWidget(jump_);
  auto* keep = new QPushButton(tr("Keep selected (K)"), this);
  auto* drop = new QPushButton(tr("Drop selected (D)"), this);
  // The same keys as in Review, here for the selected rows (Shift+arrows select a range).
  auto* keep_keys = new QAction(this);
  keep_keys->setShortcut(Qt::Key_K);
  keep_keys->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(keep_keys, &QAction::triggered, this, [this] { bulkDecide(db::Decision::kKeep, false); });
  auto* drop_keys = new QAction(this);
  drop_keys->setShortcut(Qt::Key_D);
  drop_keys->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(drop_keys, &QAction::triggered, this, [this] { bulkDecide(db::Decision::kDrop, false); });
  table_->addAction(keep_keys);
  table_->addAction(drop_keys);
  grid_->addAction(keep_keys);
  grid_->addAction(drop_keys);
  auto* drop_all = new QPushButton(tr("Drop all matching…"), this);
  connect(keep, &QPushButton::clicked, this, [this] { bulkDecide(db::Decision::kKeep, false); });
  connect(drop, &QPushButton::clicked, this, [this] { bulkDecide(db::Decision::kDrop, false); });
  connect(drop_all, &QPushButton::clicked, this, [this] { bulkDecide(db::Decision::kDrop, true); });
  bottom->addWidget(keep);
  bottom->addWidget(drop);
  bottom->addWidget(drop_all);
  outer->addLayout(bottom);

  confirm_ = [this](const QString& question) {
    return QMessageBox::question(this, tr("Bulk decision"), question) == QMessageBox::Yes;
  };
  connect(model_, &QAbstractItemModel::modelReset, this, &BrowseView::updateCount);
  updateCount();
}

void BrowseView::setGridMode(bool grid) { views_->setCurrentWidget(grid ? static_cast<QWidget*>(grid_) : table_); }

QString BrowseView::countText() const { return count_->text(); }

void BrowseView::updateCount() {
  const int rows = model_->rowCount();
  count_->setText(tr("%L1 matching pairs").arg(rows));
  jump_->setRange(1, std::max(1, rows));
}

void BrowseView::setSearchText(const QString& text) {
  search_->setText(text);
  applyFilter();
}
void BrowseView::setDecisionFilter(int index) { decision_->setCurrentIndex(index); }
void BrowseView::setSourceFilter(int index) { source_->setCurrentIndex(index); }

void BrowseView::applyFilter() {
  db::PairFilter filter;
  static const db::Decision decisions[] = {db::Decision::kUndecided, db::Decision::kKeep,
                                           db::Decision::kDrop};
  static const db::CaptionSource sources[] = {db::CaptionSource::kWeb, db::CaptionSource::kSynthetic,
                                              db::CaptionSource::kHuman};
  if (decision_->currentIndex() > 0) filter.decisions = {decisions[decision_->currentIndex() - 1]};
  if (source_->currentIndex() > 0) filter.sources = {sources[source_->currentIndex() - 1]};
  if (split_->currentIndex() > 0) filter.split = split_->currentText().toStdString();
  if (itm_min_->value() > 0) filter.itm_min = itm_min_->value();
  if (itm_max_->value() < 1) filter.itm_max = itm_max_->value();
  filter.text_query = search_->text().trimmed().toStdString();
  model_->setFilter(filter);
}

void BrowseView::activated(const QModelIndex& index) {
  const int64_t id = model_->captionIdAt(index.row());
  if (id == 0) return;
  const QString path = model_->data(model_->index(index.row(), PairTableModel::kImage), Qt::DisplayRole).toString();
  Q_EMIT reviewRequested(id, path);
}

void BrowseView::jumpTo(int row) {
  if (row < 0 || row >= model_->rowCount()) return;
  const QModelIndex target = model_->index(row, 0);
  table_->scrollTo(target, QAbstractItemView::PositionAtTop);
  table_->selectionModel()->setCurrentIndex(
      target, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void BrowseView::bulkDecide(db::Decision decision, bool all_matching) {
  std::vector<db::DecisionInput> inputs;
  if (all_matching) {
    Status s = document_->project().for_each_pair(model_->filter(), [&](const db::PairRow& row) {
      inputs.push_back({row.caption_id, decision, db::DecisionOrigin::kCurator, {}, "bulk"});
      return Status::ok();
    });
    if (!s) {
      QMessageBox::warning(this, tr("Bulk decision"), QString::fromStdString(s.message()));
      return;
    }
  } else {
    std::set<int> rows;
    for (const QModelIndex& index : table_->selectionModel()->selectedIndexes()) rows.insert(index.row());
    for (int row : rows) {
      const int64_t id = model_->captionIdAt(row);
      if (id != 0) inputs.push_back({id, decision, db::DecisionOrigin::kCurator, {}, "bulk"});
    }
  }
  if (inputs.empty()) return;
  const QString verb = decision == db::Decision::kKeep ? tr("Keep") : tr("Drop");
  const QString what = tr("%1 %L2 pairs").arg(verb).arg(static_cast<qlonglong>(inputs.size()));
  if (confirm_ && !confirm_(tr("%1? This is one step in the undo history.").arg(what))) return;
  document_->decide(inputs, what);
}

}  // namespace capfilt::ui
