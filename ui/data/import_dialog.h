#pragma once
// Importing a dataset in any layout the importer reads (COCO, Karpathy, BLIP JSON, CSV/TSV, JSONL,
// caption folder, WebDataset shards): a preview of the first records, then the import on a worker
// thread (its own connection) with a progress bar and cancel, and the report of the records left
// out at the end. Past imports and their reports stay reachable from ImportHistoryDialog.

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace capfilt::ui {

class BackgroundJob;
class ProjectDocument;

class ImportDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ImportDialog(ProjectDocument* document, QWidget* parent = nullptr);
  ~ImportDialog() override;

  void setSource(const QString& path);
  void setCaptionSource(int index);  // 0 web, 1 synthetic, 2 human
  QString reportText() const;
  int previewRows() const;
  bool importRunning() const;

 public Q_SLOTS:
  void preview();
  void startImport();

 Q_SIGNALS:
  void imported();

 private:
  ProjectDocument* document_;
  QLineEdit* path_;
  QComboBox* format_;
  QComboBox* source_;
  QLineEdit* split_;
  QComboBox* check_;
  QTableWidget* preview_;
  QLabel* preview_note_;
  QProgressBar* progress_;
  QPlainTextEdit* report_;
  QPushButton* import_;
  QPushButton* cancel_;
  BackgroundJob* preview_job_;
  BackgroundJob* import_job_;
};

// Every import of the project, with its counts and its report of what was left out.
class ImportHistoryDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ImportHistoryDialog(ProjectDocument* document, QWidget* parent = nullptr);
};

}  // namespace capfilt::ui
