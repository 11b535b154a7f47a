#pragma once
// Picks an image of the open project for the demo: its pairs by image path, narrowed by a search
// over the captions (the project's full-text index); each row shows the image path and a caption.
// One short page query per search, on the GUI thread, as every view reads the project.

#include <QDialog>
#include <QString>

class QLineEdit;
class QListWidget;

namespace capfilt::ui {

class ProjectDocument;

class ProjectImageDialog : public QDialog {
  Q_OBJECT

 public:
  ProjectImageDialog(ProjectDocument* document, QWidget* parent = nullptr);

  QString imagePath() const;  // absolute; empty when none is chosen
  QString caption() const;    // the chosen row's caption
  void search(const QString& query);
  int rowCount() const;
  void selectRow(int row);

 private:
  ProjectDocument* document_;
  QLineEdit* query_;
  QListWidget* list_;
};

}  // namespace capfilt::ui
