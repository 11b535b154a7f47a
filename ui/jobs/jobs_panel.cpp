#include "ui/jobs/jobs_panel.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "ui/jobs/job_charts.h"
#include "ui/jobs/job_form.h"
#include "ui/jobs/job_manager.h"
#include "ui/jobs/log_view.h"
#include "ui/shared/duration_text.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {
namespace {

qint64 duration_ms(const JobEntry& e) {
  if (e.started_ms <= 0) return 0;
  const qint64 end = e.finished_ms > 0 && !e.live ? e.finished_ms
                                                  : QDateTime::currentMSecsSinceEpoch();
  return end - e.started_ms;
}

QColor status_color(db::JobStatus s) {
  switch (s) {
    case db::JobStatus::kSucceeded: return QColor(30, 130, 50);
    case db::JobStatus::kFailed: return QColor(180, 30, 30);
    case db::JobStatus::kCancelled: return QColor(170, 110, 0);
    default: return QColor(30, 80, 170);
  }
}

QString metric_text(double v) {
  return std::abs(v) >= 1e-3 || v == 0 ? QString::number(v, 'g', 5) : QString::number(v, 'e', 2);
}

}  // namespace

JobsPanel::JobsPanel(ProjectDocument* document, const QString& program, QWidget* parent, int poll_ms)
    : QWidget(parent), document_(document) {
  manager_ = new JobManager(document, program, this, poll_ms);

  // Left: the jobs and the form.
  table_ = new QTableWidget(0, 5, this);
  table_->setObjectName("jobs");
  table_->setHorizontalHeaderLabels({tr("#"), tr("Job"), tr("Status"), tr("Duration"), tr("Progress")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setToolTip(tr("Stop the job: a training job writes a checkpoint first"));
  resume_ = new QPushButton(tr("Resume"), this);
  resume_->setToolTip(tr("Continue a stopped training job from its newest checkpoint"));
  rerun_ = new QPushButton(tr("Re-run"), this);
  rerun_->setToolTip(tr("Run the same configuration again, in a new job folder"));
  auto* refresh = new QPushButton(tr("Refresh"), this);
  auto* buttons = new QHBoxLayout();
  for (QPushButton* b : {cancel_, resume_, rerun_, refresh}) buttons->addWidget(b);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setStyleSheet("color: #a01010;");
  message_->hide();
  auto* jobs_page = new QWidget(this);
  auto* jobs_layout = new QVBoxLayout(jobs_page);
  jobs_layout->addWidget(table_, 1);
  jobs_layout->addLayout(buttons);
  jobs_layout->addWidget(message_);
  form_ = new JobForm(document, this);
  left_ = new QTabWidget(this);
  left_->addTab(jobs_page, tr("Jobs"));
  left_->addTab(form_, tr("New job"));

  // Right: the selected job.
  title_ = new QLabel(this);
  title_->setStyleSheet("font-weight: bold; font-size: 13pt;");
  title_->setWordWrap(true);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  eta_ = new QLabel(this);
  auto* progress_row = new QHBoxLayout();
  progress_row->addWidget(progress_, 1);
  progress_row->addWidget(eta_);
  charts_ = new JobCharts(this);
  log_ = new LogView(this);
  configuration_ = new QPlainTextEdit(this);
  configuration_->setReadOnly(true);
  configuration_->setFont(QFont(QStringLiteral("monospace"), 9));
  metrics_ = new QTableWidget(0, 2, this);
  metrics_->setHorizontalHeaderLabels({tr("Metric"), tr("Value")});
  metrics_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  metrics_->verticalHeader()->hide();
  metrics_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  detail_tabs_ = new QTabWidget(this);
  detail_tabs_->addTab(log_, tr("Log"));
  detail_tabs_->addTab(configuration_, tr("Configuration"));
  detail_tabs_->addTab(metrics_, tr("Final metrics"));
  auto* detail = new QWidget(this);
  auto* detail_layout = new QVBoxLayout(detail);
  detail_layout->addWidget(title_);
  detail_layout->addWidget(status_);
  detail_layout->addLayout(progress_row);
  auto* vsplit = new QSplitter(Qt::Vertical, detail);
  vsplit->addWidget(charts_);
  vsplit->addWidget(detail_tabs_);
  vsplit->setStretchFactor(0, 3);
  vsplit->setStretchFactor(1, 2);
  detail_layout->addWidget(vsplit, 1);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left_);
  split->addWidget(detail);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  refresh_ = new QTimer(this);
  refresh_->setSingleShot(true);
  refresh_->setInterval(100);
  connect(refresh_, &QTimer::timeout, this, [this] {
    rebuildTable();
    refreshDetail();
  });
  connect(manager_, &JobManager::listChanged, this, [this] { refresh_->start(); });
  connect(manager_, &JobManager::jobChanged, this, [this](int) {
    if (!refresh_->isActive()) refresh_->start();
  });
  connect(manager_, &JobManager::jobEnded, this, &JobsPanel::jobFinished);
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = table_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    const int key = table_->item(rows.first().row(), 0)->data(Qt::UserRole).toInt();
    if (key == selected_) return;
    selected_ = key;
    charts_->clear();
    manager_->loadDetails(key);
    refreshDetail();
  });
  connect(cancel_, &QPushButton::clicked, this, &JobsPanel::cancelSelected);
  connect(resume_, &QPushButton::clicked, this, &JobsPanel::resumeSelected);
  connect(rerun_, &QPushButton::clicked, this, &JobsPanel::rerunSelected);
  connect(refresh, &QPushButton::clicked, manager_, &JobManager::reload);
  connect(form_, &JobForm::launchRequested, this, [this](const JobRequest& r) { launch(r); });
  connect(this, &JobsPanel::jobFinished, form_, &JobForm::refreshModels);

  rebuildTable();
  // Open on the running job when there is one (a reattached job), else the newest.
  for (const auto& e : manager_->jobs()) {
    if (e->live) {
      selectJob(e->key);
      break;
    }
  }
  if (selected_ == 0 && !manager_->jobs().empty()) selectJob(manager_->jobs().front()->key);
  refreshDetail();
}

JobsPanel::~JobsPanel() = default;

int JobsPanel::launch(const JobRequest& request) {
  auto key = manager_->launch(request);
  if (!key) {
    showMessage(QString::fromStdString(key.status().message()));
    return 0;
  }
  message_->hide();
  left_->setCurrentIndex(0);
  rebuildTable();
  selectJob(*key);
  return *key;
}

void JobsPanel::showForm() { left_->setCurrentWidget(form_); }

void JobsPanel::showMessage(const QString& text) {
  message_->setText(text);
  message_->show();
}

void JobsPanel::selectJob(int key) {
  for (int row = 0; row < table_->rowCount(); ++row) {
    if (table_->item(row, 0)->data(Qt::UserRole).toInt() == key) {
      table_->selectRow(row);
      break;
    }
  }
  if (selected_ != key) {
    selected_ = key;
    charts_->clear();
    manager_->loadDetails(key);
  }
  refreshDetail();
}

void JobsPanel::cancelSelected() {
  if (!manager_->cancel(selected_)) showMessage(tr("This job is not running."));
}

void JobsPanel::resumeSelected() {
  auto r = manager_->resume(selected_);
  if (!r) showMessage(QString::fromStdString(r.status().message()));
}

void JobsPanel::rerunSelected() {
  auto r = manager_->rerun(selected_);
  if (!r) {
    showMessage(QString::fromStdString(r.status().message()));
    return;
  }
  rebuildTable();
  selectJob(*r);
}

void JobsPanel::rebuildTable() {
  const auto& jobs = manager_->jobs();
  QSignalBlocker block(table_);
  table_->setRowCount(static_cast<int>(jobs.size()));
  int selected_row = -1;
  for (int row = 0; row < static_cast<int>(jobs.size()); ++row) {
    const JobEntry& e = *jobs[row];
    auto set = [&](int column, const QString& text) {
      QTableWidgetItem* item = table_->item(row, column);
      if (!item) table_->setItem(row, column, item = new QTableWidgetItem());
      item->setText(text);
      return item;
    };
    set(0, e.job_id > 0 ? QString::number(e.job_id) : QStringLiteral("…"))->setData(Qt::UserRole, e.key);
    set(1, e.request.title)->setToolTip(e.folder);
    set(2, to_display(e.status))->setForeground(status_color(e.status));
    set(3, duration_text(duration_ms(e)));
    const int percent = e.total > 0 ? static_cast<int>(100 * e.done / e.total)
                                    : static_cast<int>(100 * e.row_progress + 0.5);
    set(4, e.total > 0 || e.row_progress > 0 ? QStringLiteral("%1 %").arg(percent) : QString());
    if (e.key == selected_) selected_row = row;
  }
  if (selected_row >= 0) table_->selectRow(selected_row);
  updateButtons();
}

void JobsPanel::updateButtons() {
  const JobEntry* e = manager_->job(selected_);
  cancel_->setEnabled(e && e->live);
  resume_->setEnabled(e && manager_->canResume(selected_));
  rerun_->setEnabled(e && !e->live && !e->request.arguments.isEmpty());
}

QString JobsPanel::etaText() const { return eta_->text(); }
QString JobsPanel::statusText() const { return status_->text(); }

void JobsPanel::refreshDetail() {
  const JobEntry* e = manager_->job(selected_);
  updateButtons();
  if (!e) {
    title_->setText(manager_->jobs().empty() ? tr("No jobs yet: start one in “New job”.") : QString());
    status_->clear();
    progress_->setValue(0);
    eta_->clear();
    return;
  }
  title_->setText(e->job_id > 0 ? tr("Job %1 · %2").arg(e->job_id).arg(e->request.title)
                                : e->request.title);
  QString status = to_display(e->status);
  if (e->live) status += tr(" · pid %1").arg(e->pid);
  if (!e->checkpoint.isEmpty()) status += tr(" · checkpoint %1").arg(e->checkpoint);
  if (!e->error.isEmpty() && e->status == db::JobStatus::kFailed)
    status += QStringLiteral("\n") + e->error;
  status_->setText(status);
  status_->setStyleSheet(QStringLiteral("color: %1;").arg(status_color(e->status).name()));
  progress_->setValue(e->total > 0 ? static_cast<int>(1000 * e->done / e->total)
                                   : e->status == db::JobStatus::kSucceeded ? 1000 : 0);
  progress_->setFormat(e->total > 0 ? QStringLiteral("%1 / %2 %3").arg(e->done).arg(e->total).arg(e->unit)
                                    : QStringLiteral("%p%"));
  QString eta;
  if (e->live && e->eta_s >= 0) eta = eta_text(e->eta_s);
  if (e->live && e->rate > 0) eta += tr("  %1 %2/s").arg(e->rate, 0, 'f', 2).arg(e->unit);
  if (!e->live) eta = duration_text(duration_ms(*e));
  eta_->setText(eta.trimmed());
  charts_->setSeries(e->series);
  log_->setLines(e->log);
  QString config = tr("capfilt %1\n\n").arg(e->request.arguments.join(' '));
  const QJsonDocument json = QJsonDocument::fromJson(e->configuration.toUtf8());
  config += json.isNull() ? e->configuration : QString::fromUtf8(json.toJson(QJsonDocument::Indented));
  if (!e->folder.isEmpty()) config += tr("\nJob folder: %1").arg(e->folder);
  if (configuration_->toPlainText() != config) configuration_->setPlainText(config);
  metrics_->setRowCount(static_cast<int>(e->final_metrics.size()));
  int row = 0;
  for (const auto& [name, value] : e->final_metrics) {
    metrics_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(name)));
    metrics_->setItem(row, 1, new QTableWidgetItem(metric_text(value)));
    ++row;
  }
}

}  // namespace capfilt::ui
