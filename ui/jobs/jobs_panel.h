#pragma once
// The Jobs tab: the project's jobs (history: status, duration; live ones with their progress),
// the "New job" form, and the selected job's detail — a progress bar with ETA, live charts of
// every loss term, the learning rate and throughput, its log (searchable), its configuration and
// final metrics — with Cancel, Resume and Re-run. Jobs run as detached capfilt processes (see
// ui/jobs/job_manager.h): closing the panel or the studio leaves them running, and a panel opened
// later on the same project reattaches to them.
//
// Thread affinity: the GUI thread. The document must outlive the panel.

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTableWidget;
class QTimer;

namespace capfilt::ui {

class JobCharts;
class JobForm;
class JobManager;
class LogView;
class ProjectDocument;
struct JobRequest;

class JobsPanel : public QWidget {
  Q_OBJECT

 public:
  // `program`: the capfilt executable; `poll_ms`: how often running jobs' logs are read.
  JobsPanel(ProjectDocument* document, const QString& program, QWidget* parent = nullptr,
            int poll_ms = 200);
  ~JobsPanel() override;

  JobManager* manager() const { return manager_; }
  JobForm* form() const { return form_; }
  JobCharts* charts() const { return charts_; }
  LogView* log() const { return log_; }
  QProgressBar* progressBar() const { return progress_; }
  QString etaText() const;
  QString statusText() const;

  int selectedKey() const { return selected_; }
  void selectJob(int key);
  // Starts a job as the form's Launch does; its key, or 0 (the reason is shown in the panel).
  int launch(const JobRequest& request);
  void cancelSelected();
  void resumeSelected();
  void rerunSelected();
  // Opens the form on `kind`'s page (the Models panel's "Evaluate…").
  void showForm();

 Q_SIGNALS:
  // A job finished (a model or scores may have been added): the Models panel reloads.
  void jobFinished(int key);

 private:
  void rebuildTable();
  void refreshDetail();
  void updateButtons();
  void showMessage(const QString& text);

  ProjectDocument* document_;
  JobManager* manager_;
  QTabWidget* left_;
  QTableWidget* table_;
  JobForm* form_;
  QPushButton* cancel_;
  QPushButton* resume_;
  QPushButton* rerun_;
  QLabel* message_;
  QLabel* title_;
  QLabel* status_;
  QProgressBar* progress_;
  QLabel* eta_;
  JobCharts* charts_;
  QTabWidget* detail_tabs_;
  LogView* log_;
  QPlainTextEdit* configuration_;
  QTableWidget* metrics_;
  QTimer* refresh_;
  int selected_ = 0;
};

}  // namespace capfilt::ui
