#pragma once
// The retrieval explorer: text → image and image → text over the project's images and captions
// with a chosen model. The ITC top k (k 16–256) and the same items re-ranked by ITM side by side,
// with their scores and each item's rank change; thumbnails; a click on a result opens the pair
// in the review. Below, R@1/5/10 of both directions on a labelled split, as `capfilt eval
// retrieval` computes them, with the misses listed: a click runs the missed query.
//
// All model work is in a RetrievalSession (its own thread). The model's embedding index is opened
// (or built, with progress) the first time the view is shown. GUI thread; the document and the
// thumbnail loader are not owned and must outlive the view.

#include <QWidget>

#include <memory>

#include "ui/retrieval/retrieval_session.h"

class QComboBox;
class QCompleter;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace capfilt::ui {

class ProjectDocument;
class ThumbnailLoader;

class RetrievalView : public QWidget {
  Q_OBJECT

 public:
  struct Options {
    QString vocab_path;  // the tokenizer's vocab.txt
    int batch_size = 16;
  };
  RetrievalView(ProjectDocument* document, ThumbnailLoader* images, const Options& options,
                QWidget* parent = nullptr);
  ~RetrievalView() override;

  RetrievalSession* session() const { return session_.get(); }
  QComboBox* modelChoice() const { return model_; }
  QTableWidget* itcTable() const { return itc_table_; }
  QTableWidget* rerankedTable() const { return reranked_table_; }
  QTableWidget* missesTable() const { return misses_; }
  QString statusText() const;
  QString recallText() const;
  // The last answer shown (its query and items).
  const RetrievalSession::Query& lastQuery() const { return last_query_; }
  const core::RetrievalAnswer& lastAnswer() const { return last_answer_; }
  bool hasSplitResult() const { return split_ != nullptr; }
  const RetrievalSession::SplitResult& splitResult() const { return *split_; }

 public Q_SLOTS:
  // Opens the chosen model and its index (built when missing or stale).
  void openSelectedModel();
  void setK(int k);
  void searchText(const QString& text);
  void searchCaption(qint64 caption_row);  // a project caption as the text query
  void searchImage(qint64 image_row);
  void evaluate();  // R@1/5/10 of the chosen split and sources

 Q_SIGNALS:
  // A result was clicked: the pair to open in the review.
  void pairRequested(qint64 caption_id, const QString& image_path);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void buildUi();
  void fillModels();
  void fillSplits();
  void submitQuery();
  void showAnswer(const RetrievalSession::Query& query, const core::RetrievalAnswer& answer);
  void fillTable(QTableWidget* table, const std::vector<core::RetrievedItem>& items,
                 bool text_to_image);
  void showSplit(const RetrievalSession::SplitResult& result);
  void fillMisses(const RetrievalSession::SplitResult& result);
  void openMiss(int row);
  void resultClicked(QTableWidget* table, int row);
  void thumbnailReady(const QString& image_path);
  void setBusy(bool busy);
  bool isCorrect(const core::RetrievedItem& item, bool text_to_image) const;

  ProjectDocument* document_;
  ThumbnailLoader* images_;
  Options options_;
  std::unique_ptr<RetrievalSession> session_;
  QComboBox* model_;
  QComboBox* direction_;
  QLineEdit* query_;
  QCompleter* image_completer_ = nullptr;  // the project's image paths, for image queries
  QSpinBox* k_;
  QPushButton* search_;
  QProgressBar* progress_;
  QPushButton* cancel_;
  QLabel* status_;
  QLabel* query_image_;
  QLabel* itc_title_;
  QLabel* reranked_title_;
  QTableWidget* itc_table_;
  QTableWidget* reranked_table_;
  QComboBox* split_choice_;
  QComboBox* source_choice_;
  QPushButton* evaluate_;
  QLabel* recall_;
  QTableWidget* misses_;
  RetrievalSession::Query last_query_;
  core::RetrievalAnswer last_answer_;
  std::unique_ptr<RetrievalSession::SplitResult> split_;
  int latest_request_ = 0;
  bool opened_once_ = false;
};

}  // namespace capfilt::ui
