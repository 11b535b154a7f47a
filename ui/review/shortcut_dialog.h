#pragma once
// Rebinding the review's keys; saved in the settings, so they persist.

#include <QDialog>
#include <vector>

class QKeySequenceEdit;

namespace capfilt::ui {

class StudioSettings;

class ShortcutDialog : public QDialog {
  Q_OBJECT

 public:
  ShortcutDialog(StudioSettings* settings, QWidget* parent = nullptr);
  void accept() override;

 private:
  StudioSettings* settings_;
  std::vector<QKeySequenceEdit*> edits_;
};

}  // namespace capfilt::ui
