#pragma once
// The Models tab: every model the project knows (task, parent, evaluation metrics, checkpoint),
// which of them is the project's captioner and which its filter (stored in the project's
// settings), importing Hugging Face BLIP weights from a folder (a `capfilt import-weights` job,
// the result added to the project's models) and evaluating a model (the Jobs tab's form, filled).
//
// Thread affinity: the GUI thread. The document and the jobs panel must outlive the panel.

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace capfilt::ui {

class JobsPanel;
class ProjectDocument;

class ModelsPanel : public QWidget {
  Q_OBJECT

 public:
  ModelsPanel(ProjectDocument* document, JobsPanel* jobs, QWidget* parent = nullptr);

  void reload();
  QTableWidget* table() const { return table_; }
  qint64 selectedModel() const;
  void selectModel(qint64 model_id);
  // Stores the selected model as the project's captioner / filter.
  void useAsCaptioner();
  void useAsFilter();
  // Starts `capfilt import-weights SOURCE -o <project folder>/models/NAME`; the job's key, or 0
  // with the reason shown.
  int importWeights(const QString& source);
  QString message() const;

 Q_SIGNALS:
  // The user asked to evaluate this model: the window shows the Jobs tab's form, filled.
  void evaluateRequested(qint64 model_id);

 private:
  void choose(const char* key, const QString& role);
  void showMessage(const QString& text, bool error);
  void updateDetail();

  ProjectDocument* document_;
  JobsPanel* jobs_;
  QTableWidget* table_;
  QPushButton* captioner_;
  QPushButton* filter_;
  QPushButton* evaluate_;
  QLabel* message_;
  QPlainTextEdit* detail_;
};

}  // namespace capfilt::ui
