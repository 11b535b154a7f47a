#include "ui/retrieval/retrieval_view.h"

#include <QCompleter>
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStringListModel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

#include "ui/shared/project_document.h"
#include "ui/shared/thumbnail_loader.h"

namespace capfilt::ui {
namespace {

enum Column { kRank, kItem, kItc, kItm, kScore, kChange, kColumns };
constexpr int kRowRole = Qt::UserRole;        // the index row of the item
constexpr int kPathRole = Qt::UserRole + 1;   // its image path (thumbnails)
constexpr int kQueryRole = Qt::UserRole + 2;  // misses: 1 = image query, 0 = text query

QTableWidget* makeTable(QWidget* parent, const QStringList& headers) {
  auto* t = new QTableWidget(0, headers.size(), parent);
  t->setHorizontalHeaderLabels(headers);
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setSelectionMode(QAbstractItemView::SingleSelection);
  t->verticalHeader()->hide();
  t->setIconSize(QSize(56, 56));
  t->verticalHeader()->setDefaultSectionSize(60);
  t->setWordWrap(true);
  t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  t->horizontalHeader()->setStretchLastSection(false);
  return t;
}

QTableWidgetItem* cell(const QString& text, Qt::Alignment align = Qt::AlignRight | Qt::AlignVCenter) {
  auto* item = new QTableWidgetItem(text);
  item->setTextAlignment(align);
  return item;
}

QString percent(double fraction) { return QString::number(100 * fraction, 'f', 1); }

}  // namespace

RetrievalView::RetrievalView(ProjectDocument* document, ThumbnailLoader* images,
                             const Options& options, QWidget* parent)
    : QWidget(parent), document_(document), images_(images), options_(options) {
  RetrievalSession::Options so;
  so.project_path = document_->path();
  so.images_root = document_->imagesRoot();
  so.vocab_path = options_.vocab_path;
  so.batch_size = options_.batch_size;
  session_ = std::make_unique<RetrievalSession>(so);
  buildUi();
  fillModels();
  connect(session_.get(), &RetrievalSession::progress, this,
          [this](qint64 done, qint64 total, const QString& what) {
            progress_->setRange(0, static_cast<int>(std::min<qint64>(total, INT32_MAX)));
            progress_->setValue(static_cast<int>(std::min<qint64>(done, INT32_MAX)));
            progress_->setFormat(what + QStringLiteral(" %v / %m"));
          });
  connect(session_.get(), &RetrievalSession::busyChanged, this, [this](bool busy) { setBusy(busy); });
  connect(session_.get(), &RetrievalSession::failed, this,
          [this](const QString& why) { status_->setText(why); });
  connect(session_.get(), &RetrievalSession::modelOpened, this, [this](const QString& message) {
    status_->setText(message);
    fillSplits();
    QStringList paths;
    for (const auto& p : session_->items()->image_paths) paths << QString::fromStdString(p);
    delete image_completer_;
    image_completer_ = new QCompleter(this);
    image_completer_->setModel(new QStringListModel(paths, image_completer_));
    image_completer_->setFilterMode(Qt::MatchContains);
    image_completer_->setCaseSensitivity(Qt::CaseInsensitive);
    query_->setCompleter(direction_->currentIndex() == 1 ? image_completer_ : nullptr);
    search_->setEnabled(true);
    evaluate_->setEnabled(true);
  });
  connect(session_.get(), &RetrievalSession::answered, this, &RetrievalView::showAnswer);
  connect(session_.get(), &RetrievalSession::evaluated, this, &RetrievalView::showSplit);
  if (images_) connect(images_, &ThumbnailLoader::ready, this, &RetrievalView::thumbnailReady);
}

RetrievalView::~RetrievalView() = default;

void RetrievalView::buildUi() {
  auto* root = new QVBoxLayout(this);

  auto* model_row = new QHBoxLayout;
  model_ = new QComboBox(this);
  model_->setToolTip(tr("The model whose ITC embeddings and ITM head rank the results. Its "
                        "embedding index is kept beside the project and rebuilt when the model "
                        "or the project's images and captions change."));
  progress_ = new QProgressBar(this);
  progress_->setTextVisible(true);
  progress_->hide();
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->hide();
  status_ = new QLabel(tr("The index is opened when you first come here."), this);
  status_->setWordWrap(true);
  model_row->addWidget(new QLabel(tr("Model:"), this));
  model_row->addWidget(model_, 1);
  model_row->addWidget(progress_, 1);
  model_row->addWidget(cancel_);
  model_row->addWidget(status_, 2);
  root->addLayout(model_row);

  auto* query_row = new QHBoxLayout;
  direction_ = new QComboBox(this);
  direction_->addItems({tr("Text → image"), tr("Image → text")});
  query_ = new QLineEdit(this);
  query_->setPlaceholderText(tr("Type a description and press Enter"));
  query_->setClearButtonEnabled(true);
  k_ = new QSpinBox(this);
  k_->setRange(16, 256);
  k_->setValue(64);
  k_->setToolTip(tr("How many ITC candidates are re-ranked by ITM (BLIP's COCO setting: 128)"));
  search_ = new QPushButton(tr("Search"), this);
  search_->setEnabled(false);
  query_row->addWidget(direction_);
  query_row->addWidget(query_, 1);
  query_row->addWidget(new QLabel(tr("top k"), this));
  query_row->addWidget(k_);
  query_row->addWidget(search_);
  root->addLayout(query_row);

  auto* vertical = new QSplitter(Qt::Vertical, this);
  auto* results = new QWidget(vertical);
  auto* results_row = new QHBoxLayout(results);
  results_row->setContentsMargins(0, 0, 0, 0);
  query_image_ = new QLabel(results);
  query_image_->setFixedWidth(100);
  query_image_->setAlignment(Qt::AlignTop | Qt::AlignHCenter);
  query_image_->hide();
  results_row->addWidget(query_image_);
  auto* columns = new QWidget(results);
  auto* columns_layout = new QHBoxLayout(columns);
  columns_layout->setContentsMargins(0, 0, 0, 0);
  const QStringList headers = {tr("#"), tr("Image"), tr("ITC"), tr("ITM"), tr("ITM+ITC"), tr("Rank change")};
  for (auto [title, table] : {std::pair{&itc_title_, &itc_table_}, std::pair{&reranked_title_, &reranked_table_}}) {
    auto* box = new QWidget(columns);
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    *title = new QLabel(box);
    *table = makeTable(box, headers);
    layout->addWidget(*title);
    layout->addWidget(*table);
    columns_layout->addWidget(box, 1);  // the two columns share the width
  }
  itc_title_->setText(tr("<b>ITC top k</b> (cosine of the embeddings)"));
  reranked_title_->setText(tr("<b>Re-ranked by ITM</b> (ITM match probability + ITC, as BLIP)"));
  results_row->addWidget(columns, 1);

  auto* split_box = new QGroupBox(tr("Labelled split: R@1/5/10 as capfilt eval retrieval computes them"), vertical);
  auto* split_layout = new QVBoxLayout(split_box);
  auto* split_row = new QHBoxLayout;
  split_choice_ = new QComboBox(split_box);
  split_choice_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  source_choice_ = new QComboBox(split_box);
  source_choice_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  source_choice_->addItem(tr("all captions"), QString());
  for (const char* s : {"human", "web", "synthetic"}) source_choice_->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
  evaluate_ = new QPushButton(tr("Evaluate"), split_box);
  evaluate_->setEnabled(false);
  split_row->addWidget(new QLabel(tr("Split:"), split_box));
  split_row->addWidget(split_choice_);
  split_row->addWidget(new QLabel(tr("Captions:"), split_box));
  split_row->addWidget(source_choice_);
  split_row->addWidget(evaluate_);
  split_row->addStretch(1);
  split_layout->addLayout(split_row);
  auto* split_body = new QHBoxLayout;
  recall_ = new QLabel(tr("Evaluate to see the recall of both directions and the queries it missed."), split_box);
  recall_->setTextFormat(Qt::RichText);
  recall_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  misses_ = makeTable(split_box, {tr("Query"), tr("Missed query (click to run it)"), tr("ITC rank"), tr("ITC→ITM rank")});
  misses_->setIconSize(QSize(40, 40));
  misses_->verticalHeader()->setDefaultSectionSize(44);
  split_body->addWidget(recall_);
  split_body->addWidget(misses_, 1);
  split_layout->addLayout(split_body, 1);
  vertical->addWidget(results);
  vertical->addWidget(split_box);
  vertical->setStretchFactor(0, 3);
  vertical->setStretchFactor(1, 2);
  root->addWidget(vertical, 1);

  connect(search_, &QPushButton::clicked, this, &RetrievalView::submitQuery);
  connect(query_, &QLineEdit::returnPressed, this, &RetrievalView::submitQuery);
  connect(cancel_, &QPushButton::clicked, this, [this] { session_->cancel(); });
  connect(evaluate_, &QPushButton::clicked, this, &RetrievalView::evaluate);
  connect(model_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    if (opened_once_) openSelectedModel();
  });
  connect(direction_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int d) {
    query_->setCompleter(d == 1 ? image_completer_ : nullptr);
    query_->setPlaceholderText(d == 1 ? tr("An image of the project (type part of its path)")
                                      : tr("Type a description and press Enter"));
    query_->clear();
  });
  connect(itc_table_, &QTableWidget::cellClicked, this, [this](int row, int) { resultClicked(itc_table_, row); });
  connect(reranked_table_, &QTableWidget::cellClicked, this,
          [this](int row, int) { resultClicked(reranked_table_, row); });
  connect(misses_, &QTableWidget::cellClicked, this, [this](int row, int) { openMiss(row); });
}

void RetrievalView::fillModels() {
  auto models = document_->project().models();
  if (!models) {
    status_->setText(QString::fromStdString(models.status().message()));
    return;
  }
  int preferred = -1;
  for (const auto& m : *models) {
    if (m.checkpoint_path.empty()) continue;
    model_->addItem(tr("%1 (%2, #%3)").arg(QString::fromStdString(m.name), QString::fromStdString(m.task)).arg(m.id),
                    QVariant::fromValue<qlonglong>(m.id));
    model_->setItemData(model_->count() - 1, QString::fromStdString(m.checkpoint_path), Qt::UserRole + 1);
    model_->setItemData(model_->count() - 1, QString::fromStdString(m.checkpoint_path), Qt::ToolTipRole);
    if (m.task == "filter") preferred = model_->count() - 1;  // the newest filter
  }
  if (preferred >= 0) model_->setCurrentIndex(preferred);
  if (model_->count() == 0) status_->setText(tr("The project has no model with a checkpoint yet."));
}

void RetrievalView::fillSplits() {
  const QString before = split_choice_->currentData().toString();
  split_choice_->clear();
  split_choice_->addItem(tr("every image"), QString());
  std::set<std::string> splits(session_->items()->image_splits.begin(), session_->items()->image_splits.end());
  for (const auto& s : splits) {
    if (!s.empty()) split_choice_->addItem(QString::fromStdString(s), QString::fromStdString(s));
  }
  const int test = split_choice_->findData(before.isEmpty() ? QStringLiteral("test") : before);
  if (test >= 0) split_choice_->setCurrentIndex(test);
}

void RetrievalView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (!opened_once_) openSelectedModel();
}

void RetrievalView::openSelectedModel() {
  opened_once_ = true;
  if (model_->currentIndex() < 0) return;
  search_->setEnabled(false);
  evaluate_->setEnabled(false);
  status_->setText(tr("Opening %1 …").arg(model_->currentText()));
  session_->openModel(model_->currentData().toLongLong(), model_->currentData(Qt::UserRole + 1).toString());
}

void RetrievalView::setK(int k) { k_->setValue(k); }

void RetrievalView::submitQuery() {
  const QString text = query_->text().trimmed();
  if (text.isEmpty()) return;
  if (direction_->currentIndex() == 0) return searchText(text);
  const auto items = session_->items();
  if (!items) return;
  for (size_t r = 0; r < items->image_paths.size(); ++r) {
    if (QString::fromStdString(items->image_paths[r]) == text) return searchImage(static_cast<qint64>(r));
  }
  status_->setText(tr("No image %1 in the project; pick one from the list as you type.").arg(text));
}

void RetrievalView::searchText(const QString& text) {
  RetrievalSession::Query q;
  q.text_to_image = true;
  q.text = text;
  q.k = k_->value();
  latest_request_ = session_->search(q);
}

void RetrievalView::searchCaption(qint64 caption_row) {
  const auto items = session_->items();
  if (!items || caption_row < 0 || caption_row >= static_cast<qint64>(items->caption_texts.size())) return;
  RetrievalSession::Query q;
  q.text_to_image = true;
  q.caption_row = caption_row;
  q.text = QString::fromStdString(items->caption_texts[static_cast<size_t>(caption_row)]);
  q.k = k_->value();
  direction_->setCurrentIndex(0);
  query_->setText(q.text);
  latest_request_ = session_->search(q);
}

void RetrievalView::searchImage(qint64 image_row) {
  const auto items = session_->items();
  if (!items || image_row < 0 || image_row >= static_cast<qint64>(items->image_paths.size())) return;
  RetrievalSession::Query q;
  q.text_to_image = false;
  q.image_row = image_row;
  q.k = k_->value();
  direction_->setCurrentIndex(1);
  query_->setText(QString::fromStdString(items->image_paths[static_cast<size_t>(image_row)]));
  latest_request_ = session_->search(q);
}

void RetrievalView::evaluate() {
  std::vector<db::CaptionSource> sources;
  db::CaptionSource s;
  if (db::parse(source_choice_->currentData().toString().toStdString(), &s)) sources.push_back(s);
  status_->setText(tr("Evaluating …"));
  session_->evaluateSplit(split_choice_->currentData().toString(), sources, k_->value());
}

bool RetrievalView::isCorrect(const core::RetrievedItem& item, bool text_to_image) const {
  const auto items = session_->items();
  if (text_to_image) {
    return last_query_.caption_row >= 0 &&
           items->caption_image[static_cast<size_t>(last_query_.caption_row)] == item.row;
  }
  return items->caption_image[static_cast<size_t>(item.row)] == last_query_.image_row;
}

void RetrievalView::showAnswer(const RetrievalSession::Query& query, const core::RetrievalAnswer& answer) {
  if (query.request != latest_request_) return;  // a newer query is on its way
  last_query_ = query;
  last_answer_ = answer;
  const bool t2i = query.text_to_image;
  const auto items = session_->items();
  if (t2i) {
    query_image_->hide();
  } else {
    const QString path = QString::fromStdString(items->image_paths[static_cast<size_t>(query.image_row)]);
    query_image_->setPixmap(images_ ? images_->pixmap(path) : QPixmap());
    query_image_->setProperty("path", path);
    query_image_->show();
  }
  fillTable(itc_table_, answer.itc, t2i);
  fillTable(reranked_table_, answer.reranked, t2i);
  const QString what = t2i ? tr("images") : tr("captions");
  itc_title_->setText(tr("<b>ITC top %1</b> of %L2 %3 · search %4 ms")
                          .arg(answer.itc.size())
                          .arg(t2i ? items->image_ids.size() : items->caption_ids.size())
                          .arg(what)
                          .arg(answer.search_ms, 0, 'f', 2));
  reranked_title_->setText(tr("<b>Re-ranked by ITM</b> (ITM + ITC) · %1 pairs in %2 s")
                               .arg(answer.reranked.size())
                               .arg(answer.itm_ms / 1000, 0, 'f', 2));
  status_->setText(t2i ? tr("“%1”").arg(query.text)
                       : tr("Captions for %1").arg(QString::fromStdString(
                             items->image_paths[static_cast<size_t>(query.image_row)])));
}

void RetrievalView::fillTable(QTableWidget* table, const std::vector<core::RetrievedItem>& found,
                              bool text_to_image) {
  const auto items = session_->items();
  table->setRowCount(0);
  table->setRowCount(static_cast<int>(found.size()));
  table->horizontalHeaderItem(kItem)->setText(text_to_image ? tr("Image") : tr("Caption"));
  for (int r = 0; r < static_cast<int>(found.size()); ++r) {
    const core::RetrievedItem& it = found[static_cast<size_t>(r)];
    table->setItem(r, kRank, cell(QString::number(r + 1)));
    QTableWidgetItem* item;
    if (text_to_image) {
      const QString path = QString::fromStdString(items->image_paths[static_cast<size_t>(it.row)]);
      item = cell(path, Qt::AlignLeft | Qt::AlignVCenter);
      if (images_) item->setIcon(QIcon(images_->pixmap(path)));
      item->setData(kPathRole, path);
    } else {
      const size_t c = static_cast<size_t>(it.row);
      item = cell(QString::fromStdString(items->caption_texts[c]) +
                      QStringLiteral("  [%1]").arg(db::to_string(items->caption_sources[c])),
                  Qt::AlignLeft | Qt::AlignVCenter);
    }
    item->setData(kRowRole, QVariant::fromValue<qlonglong>(it.row));
    table->setItem(r, kItem, item);
    table->setItem(r, kItc, cell(QString::number(it.itc, 'f', 4)));
    table->setItem(r, kItm, cell(QString::number(it.itm, 'f', 4)));
    table->setItem(r, kScore, cell(QString::number(it.score, 'f', 4)));
    const int64_t change = it.itc_rank - it.reranked_rank;  // > 0: ITM moved it up
    auto* delta = cell(change > 0 ? QStringLiteral("▲ %1").arg(change)
                       : change < 0 ? QStringLiteral("▼ %1").arg(-change)
                                    : QStringLiteral("="));
    delta->setForeground(change > 0 ? QColor(0, 128, 0) : change < 0 ? QColor(170, 20, 20) : QColor(110, 110, 110));
    delta->setToolTip(tr("ITC rank %1 → re-ranked %2").arg(it.itc_rank + 1).arg(it.reranked_rank + 1));
    table->setItem(r, kChange, delta);
    if (isCorrect(it, text_to_image)) {
      for (int c = 0; c < kColumns; ++c) table->item(r, c)->setBackground(QColor(214, 240, 214));
    }
  }
  table->horizontalHeader()->setSectionResizeMode(kItem, QHeaderView::Stretch);
}

void RetrievalView::showSplit(const RetrievalSession::SplitResult& result) {
  split_ = std::make_unique<RetrievalSession::SplitResult>(result);
  const core::RetrievalEvaluation& e = result.retrieval.summary;
  auto row = [](const QString& name, const core::eval::RetrievalRecall& r) {
    return QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>&nbsp;</td><td>%5</td><td>%6</td><td>%7</td></tr>")
        .arg(name, percent(r.image_to_text.r1), percent(r.image_to_text.r5), percent(r.image_to_text.r10),
             percent(r.text_to_image.r1), percent(r.text_to_image.r5), percent(r.text_to_image.r10));
  };
  recall_->setText(
      tr("<b>%L1 images, %L2 captions</b> (%3)<br>"
         "<table cellspacing=4><tr><th></th><th colspan=3>image → text</th><th></th><th colspan=3>text → image</th></tr>"
         "<tr><td></td><td>R@1</td><td>R@5</td><td>R@10</td><td></td><td>R@1</td><td>R@5</td><td>R@10</td></tr>%4%5</table>"
         "<br>%L6 ITM pairs scored")
          .arg(e.images)
          .arg(e.texts)
          .arg(result.split.isEmpty() ? tr("every image") : tr("split %1").arg(result.split))
          .arg(row(tr("ITC"), e.itc), row(tr("ITC→ITM, k=%1").arg(e.k), e.itc_itm))
          .arg(e.pairs_scored));
  fillMisses(result);
  status_->setText(tr("%L1 queries missed the first place (click one to run it)").arg(misses_->rowCount()));
}

// Queries whose correct item was not ranked first by either method.
void RetrievalView::fillMisses(const RetrievalSession::SplitResult& result) {
  const core::RetrievalEvaluation& e = result.retrieval.summary;
  const auto items = session_->items();
  misses_->setRowCount(0);
  const auto& itc = result.retrieval.itc_ranks;
  const auto& rr = result.retrieval.reranked_ranks;
  auto add = [&](bool image_query, qint64 index_row, const QString& text, int64_t itc_rank, int64_t rr_rank) {
    const int r = misses_->rowCount();
    misses_->insertRow(r);
    misses_->setItem(r, 0, cell(image_query ? tr("image → text") : tr("text → image"), Qt::AlignLeft | Qt::AlignVCenter));
    auto* item = cell(text, Qt::AlignLeft | Qt::AlignVCenter);
    item->setData(kRowRole, QVariant::fromValue<qlonglong>(index_row));
    item->setData(kQueryRole, image_query ? 1 : 0);
    if (image_query) {
      item->setData(kPathRole, text);
      if (images_) item->setIcon(QIcon(images_->pixmap(text)));
    }
    misses_->setItem(r, 1, item);
    misses_->setItem(r, 2, cell(QString::number(itc_rank + 1)));
    // Past the k candidates the evaluation orders the rest by index (score -100): no real rank.
    auto* rr = cell(rr_rank < e.k ? QString::number(rr_rank + 1) : tr("> %1").arg(e.k));
    rr->setToolTip(tr("Rank %1 in the evaluation's ordering").arg(rr_rank + 1));
    rr->setData(kRowRole, QVariant::fromValue<qlonglong>(rr_rank + 1));
    misses_->setItem(r, 3, rr);
  };
  for (size_t i = 0; i < rr.image_to_text.size(); ++i) {
    if (rr.image_to_text[i] > 0 || itc.image_to_text[i] > 0) {
      const qint64 image_row = result.retrieval.image_rows[i];
      add(true, image_row, QString::fromStdString(items->image_paths[static_cast<size_t>(image_row)]),
          itc.image_to_text[i], rr.image_to_text[i]);
    }
  }
  for (size_t t = 0; t < rr.text_to_image.size(); ++t) {
    if (rr.text_to_image[t] > 0 || itc.text_to_image[t] > 0) {
      const qint64 caption_row = result.retrieval.caption_rows[t];
      add(false, caption_row, QString::fromStdString(items->caption_texts[static_cast<size_t>(caption_row)]),
          itc.text_to_image[t], rr.text_to_image[t]);
    }
  }
  misses_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
}

void RetrievalView::openMiss(int row) {
  const QTableWidgetItem* item = misses_->item(row, 1);
  if (!item) return;
  const qint64 index_row = item->data(kRowRole).toLongLong();
  if (item->data(kQueryRole).toInt() == 1) searchImage(index_row);
  else searchCaption(index_row);
}

void RetrievalView::resultClicked(QTableWidget* table, int row) {
  const QTableWidgetItem* item = table->item(row, kItem);
  const auto items = session_->items();
  if (!item || !items) return;
  const auto index_row = static_cast<size_t>(item->data(kRowRole).toLongLong());
  size_t caption = 0;
  if (last_query_.text_to_image) {
    // The query caption when this is its image, else the image's first caption.
    if (last_query_.caption_row >= 0 &&
        items->caption_image[static_cast<size_t>(last_query_.caption_row)] == static_cast<int64_t>(index_row)) {
      caption = static_cast<size_t>(last_query_.caption_row);
    } else {
      caption = static_cast<size_t>(std::find(items->caption_image.begin(), items->caption_image.end(),
                                              static_cast<int64_t>(index_row)) -
                                    items->caption_image.begin());
      if (caption >= items->caption_ids.size()) return;
    }
  } else {
    caption = index_row;
  }
  const auto image = static_cast<size_t>(items->caption_image[caption]);
  Q_EMIT pairRequested(items->caption_ids[caption], QString::fromStdString(items->image_paths[image]));
}

void RetrievalView::thumbnailReady(const QString& image_path) {
  for (QTableWidget* table : {itc_table_, reranked_table_, misses_}) {
    const int column = table == misses_ ? 1 : kItem;
    for (int r = 0; r < table->rowCount(); ++r) {
      QTableWidgetItem* item = table->item(r, column);
      if (item && item->data(kPathRole).toString() == image_path) item->setIcon(QIcon(images_->pixmap(image_path)));
    }
  }
  if (query_image_->isVisible() && query_image_->property("path").toString() == image_path)
    query_image_->setPixmap(images_->pixmap(image_path));
}

void RetrievalView::setBusy(bool busy) {
  progress_->setVisible(busy);
  cancel_->setVisible(busy);
  if (busy) {
    progress_->setRange(0, 0);  // until the first progress report
    progress_->setFormat(tr("Working …"));
  }
}

QString RetrievalView::statusText() const { return status_->text(); }
QString RetrievalView::recallText() const { return recall_->text(); }

}  // namespace capfilt::ui
