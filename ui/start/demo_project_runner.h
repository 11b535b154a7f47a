#pragma once
// Builds the demo project in a child process: `capfilt demo-project DIR --json` generates the demo
// data, imports it, trains or reuses the demo models and runs CapFilt, printing the JSON-lines
// progress of core/job_progress.h, which this runner reads (queued, on the GUI thread). A crashed
// or missing child never takes the window down: its exit status and stderr become `failed`.

#include <QObject>
#include <QProcess>
#include <QString>

#include "ui/shared/progress_line_reader.h"

namespace capfilt::ui {

class DemoProjectRunner : public QObject {
  Q_OBJECT

 public:
  explicit DemoProjectRunner(QObject* parent = nullptr);
  ~DemoProjectRunner() override;

  // `program` is the capfilt executable; `folder` where the demo project goes.
  void start(const QString& program, const QString& folder);
  void cancel();
  bool running() const { return process_.state() != QProcess::NotRunning; }
  // The project file a finished run leaves in `folder` (the "path" of its finished line, else
  // the first *.capfilt file there); empty when there is none.
  static QString projectIn(const QString& folder, const QString& reported = {});
  // The line the start page shows for a progress event: which part of the demo is being built,
  // how far it is and the training loss, without the per-term metrics a newcomer cannot read
  // ("Training the demo models, 1 of 3: pre-training on the web pairs — step 130 of 500,
  // ETA 2 min 45 s, loss 8.18").
  static QString describe(const core::ProgressEvent& event);

 Q_SIGNALS:
  void progress(qint64 done, qint64 total, const QString& text);
  void succeeded(const QString& project_path);
  void failed(const QString& message);

 private:
  void readLines();
  void finished(int exit_code, QProcess::ExitStatus status);

  QProcess process_;
  QString folder_;
  ProgressLineReader reader_;
  QString finished_status_;
  QString finished_text_;
  QString reported_path_;
  QString last_error_text_;
};

}  // namespace capfilt::ui
