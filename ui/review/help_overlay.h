#pragma once
// The `?` overlay: every review action with its current key, drawn over the review view.

#include <QWidget>

namespace capfilt::ui {

class StudioSettings;

class HelpOverlay : public QWidget {
  Q_OBJECT

 public:
  HelpOverlay(const StudioSettings* settings, QWidget* parent);
  // Rereads the keys (after they were rebound) and covers the parent.
  void refresh();

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  const StudioSettings* settings_;
  QString text_;
};

}  // namespace capfilt::ui
