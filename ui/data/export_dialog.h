#pragma once
// Exporting the curated set with one of the four exporters (BLIP JSON, COCO, CSV, WebDataset) and
// an explicit caption selection, on a worker thread with progress and cancel.

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace capfilt::ui {

class BackgroundJob;
class ProjectDocument;

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ExportDialog(ProjectDocument* document, QWidget* parent = nullptr);
  void setOutput(const QString& path);
  void setFormat(int index);  // 0 BLIP JSON, 1 COCO, 2 CSV, 3 WebDataset
  QString reportText() const;
  bool running() const;

 public Q_SLOTS:
  void startExport();

 private:
  ProjectDocument* document_;
  QLineEdit* output_;
  QComboBox* format_;
  QCheckBox* kept_web_;
  QCheckBox* kept_synthetic_;
  QCheckBox* human_;
  QCheckBox* undecided_;
  QLineEdit* split_;
  QCheckBox* absolute_;
  QProgressBar* progress_;
  QPlainTextEdit* report_;
  QPushButton* export_;
  QPushButton* cancel_;
  BackgroundJob* job_;
};

}  // namespace capfilt::ui
