#pragma once
// The first thing a newcomer sees: create a project, open one, reopen a recent one, or open the
// demo project (built by a child `capfilt demo-project` process, with a progress bar).

#include <QWidget>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace capfilt::ui {

class StudioSettings;

class StartPage : public QWidget {
  Q_OBJECT

 public:
  StartPage(StudioSettings* settings, QWidget* parent = nullptr);
  void refreshRecent();
  // Progress of the demo build: done < 0 leaves the bar as it is and only shows the text.
  void showDemoProgress(qint64 done, qint64 total, const QString& text);
  void showDemoFailure(const QString& message);
  void demoFinished();
  QString messageText() const;

 Q_SIGNALS:
  void newProjectRequested();
  void openProjectRequested();
  void openRecentRequested(const QString& path);
  void demoRequested();

 private:
  StudioSettings* settings_;
  QListWidget* recent_;
  QPushButton* demo_;
  QProgressBar* progress_;
  QLabel* message_;
};

}  // namespace capfilt::ui
