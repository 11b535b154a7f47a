#include "ui/models/models_panel.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "ui/jobs/job_request.h"
#include "ui/jobs/jobs_panel.h"
#include "ui/models/model_choice.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {
namespace {

enum Column { kId, kName, kTask, kRole, kParent, kMetrics, kCheckpoint, kColumns };

// Every number of a metrics object as "path value", for the table's summary.
void flatten(const QJsonValue& v, const QString& prefix, QStringList* out) {
  if (v.isObject()) {
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it)
      flatten(it.value(), prefix.isEmpty() ? it.key() : prefix + '.' + it.key(), out);
  } else if (v.isDouble()) {
    out->append(QStringLiteral("%1 %2").arg(prefix).arg(v.toDouble(), 0, 'g', 4));
  }
}

// Evaluation results first (eval_*), then a training job's final losses; the rest is in the detail.
QString metrics_summary(const std::string& json) {
  QStringList all;
  flatten(QJsonDocument::fromJson(QByteArray::fromStdString(json)).object(), {}, &all);
  // The headline numbers of each evaluation (AUC, F1, R@1, BLEU, CIDEr, accuracy) before the rest.
  const QStringList evals = all.filter(QRegularExpression(QStringLiteral("^eval_")));
  const QRegularExpression headline(QStringLiteral("(auc|\\.f1 |r1|r_1|r@1|bleu|cider|accuracy)"),
                                    QRegularExpression::CaseInsensitiveOption);
  QStringList parts = evals.filter(headline);
  for (const QString& e : evals)
    if (!parts.contains(e)) parts << e;
  parts << all.filter(QRegularExpression(QStringLiteral("^final_loss")));
  if (parts.size() > 4) return parts.mid(0, 4).join(QStringLiteral(" · ")) + QStringLiteral(" …");
  return parts.join(QStringLiteral(" · "));
}

}  // namespace

ModelsPanel::ModelsPanel(ProjectDocument* document, JobsPanel* jobs, QWidget* parent)
    : QWidget(parent), document_(document), jobs_(jobs) {
  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName("models");
  table_->setHorizontalHeaderLabels({tr("#"), tr("Name"), tr("Task"), tr("Project's"), tr("Parent"),
                                     tr("Evaluation"), tr("Checkpoint")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(kCheckpoint, QHeaderView::Stretch);
  table_->setColumnWidth(kMetrics, 520);
  table_->setWordWrap(false);
  table_->horizontalHeader()->setSectionResizeMode(kId, QHeaderView::ResizeToContents);
  auto* import = new QPushButton(tr("Import Hugging Face weights…"), this);
  captioner_ = new QPushButton(tr("Use as the captioner"), this);
  filter_ = new QPushButton(tr("Use as the filter"), this);
  evaluate_ = new QPushButton(tr("Evaluate…"), this);
  auto* buttons = new QHBoxLayout();
  buttons->addWidget(import);
  buttons->addStretch(1);
  buttons->addWidget(captioner_);
  buttons->addWidget(filter_);
  buttons->addWidget(evaluate_);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  detail_ = new QPlainTextEdit(this);
  detail_->setReadOnly(true);
  detail_->setFont(QFont(QStringLiteral("monospace"), 9));
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(detail_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buttons);
  layout->addWidget(message_);
  layout->addWidget(split, 1);

  connect(import, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getExistingDirectory(
        this, tr("Hugging Face BLIP folder (config.json + model.safetensors)"), QDir::homePath());
    if (!folder.isEmpty()) importWeights(folder);
  });
  connect(captioner_, &QPushButton::clicked, this, &ModelsPanel::useAsCaptioner);
  connect(filter_, &QPushButton::clicked, this, &ModelsPanel::useAsFilter);
  connect(evaluate_, &QPushButton::clicked, this, [this] {
    if (selectedModel() > 0) Q_EMIT evaluateRequested(selectedModel());
  });
  connect(table_, &QTableWidget::itemSelectionChanged, this, &ModelsPanel::updateDetail);
  if (jobs_) connect(jobs_, &JobsPanel::jobFinished, this, &ModelsPanel::reload);
  reload();
}

qint64 ModelsPanel::selectedModel() const {
  const auto rows = table_->selectionModel()->selectedRows();
  return rows.isEmpty() ? 0 : table_->item(rows.first().row(), kId)->data(Qt::UserRole).toLongLong();
}

void ModelsPanel::selectModel(qint64 model_id) {
  for (int row = 0; row < table_->rowCount(); ++row)
    if (table_->item(row, kId)->data(Qt::UserRole).toLongLong() == model_id) table_->selectRow(row);
}

void ModelsPanel::reload() {
  const qint64 selected = selectedModel();
  auto models = document_->project().models();
  if (!models) {
    showMessage(QString::fromStdString(models.status().message()), true);
    return;
  }
  const qint64 captioner = chosen_captioner(document_->project());
  const qint64 filter = chosen_filter(document_->project());
  QSignalBlocker block(table_);
  table_->setRowCount(static_cast<int>(models->size()));
  for (int row = 0; row < static_cast<int>(models->size()); ++row) {
    const db::ModelRecord& m = (*models)[row];
    auto set = [&](int column, const QString& text) {
      auto* item = new QTableWidgetItem(text);
      table_->setItem(row, column, item);
      return item;
    };
    set(kId, QString::number(m.id))->setData(Qt::UserRole, qint64(m.id));
    set(kName, QString::fromStdString(m.name));
    set(kTask, QString::fromStdString(m.task));
    QStringList roles;
    if (m.id == captioner) roles << tr("★ captioner");
    if (m.id == filter) roles << tr("★ filter");
    set(kRole, roles.join(' '));
    const db::ModelRecord* parent = model_with_id(*models, m.parent_id);
    set(kParent, parent ? tr("#%1 %2").arg(parent->id).arg(QString::fromStdString(parent->name))
                        : QString());
    set(kMetrics, metrics_summary(m.metrics_json));
    const QString path = QString::fromStdString(m.checkpoint_path);
    // The end of the path names the model; the whole path is the tooltip.
    const QStringList parts = path.split('/', Qt::SkipEmptyParts);
    const QString shown = parts.size() > 3 ? QStringLiteral("…/") + parts.mid(parts.size() - 3).join('/')
                                           : path;
    QTableWidgetItem* checkpoint = set(kCheckpoint, path.isEmpty() ? tr("(no folder)") : shown);
    checkpoint->setToolTip(path);
    if (!path.isEmpty() && !QFileInfo::exists(path)) checkpoint->setForeground(QColor(180, 30, 30));
  }
  table_->resizeColumnToContents(kName);
  table_->resizeColumnToContents(kTask);
  table_->resizeColumnToContents(kRole);
  selectModel(selected);
  updateDetail();
}

void ModelsPanel::updateDetail() {
  const qint64 id = selectedModel();
  captioner_->setEnabled(id > 0);
  filter_->setEnabled(id > 0);
  evaluate_->setEnabled(id > 0);
  if (id == 0) {
    detail_->setPlainText(tr("Select a model to see its configuration and evaluation results."));
    return;
  }
  auto m = document_->project().model(id);
  if (!m) return;
  auto pretty = [](const std::string& json) {
    const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    return d.isNull() ? QString::fromStdString(json) : QString::fromUtf8(d.toJson(QJsonDocument::Indented));
  };
  detail_->setPlainText(tr("Model #%1 %2 (%3)\nCheckpoint: %4\n\nEvaluation:\n%5\nConfiguration:\n%6")
                            .arg(m->id)
                            .arg(QString::fromStdString(m->name), QString::fromStdString(m->task),
                                 QString::fromStdString(m->checkpoint_path),
                                 pretty(m->metrics_json), pretty(m->config_json)));
}

void ModelsPanel::choose(const char* key, const QString& role) {
  const qint64 id = selectedModel();
  if (id <= 0) return;
  auto m = document_->project().model(id);
  if (m && m->checkpoint_path.empty()) {
    showMessage(tr("Model #%1 has no checkpoint folder (only its scores were imported): it cannot "
                   "be the %2.").arg(id).arg(role), true);
    return;
  }
  const std::string k = key;
  const std::string value = std::to_string(id);
  document_->write([k, value](db::Project& p) { return p.set_setting(k, value); },
                   tr("Choosing the project's %1").arg(role));
  showMessage(tr("Model #%1 is now the project's %2.").arg(id).arg(role), false);
  reload();
}

void ModelsPanel::useAsCaptioner() { choose(db::kCaptionerSetting, tr("captioner")); }
void ModelsPanel::useAsFilter() { choose(db::kFilterSetting, tr("filter")); }

int ModelsPanel::importWeights(const QString& source) {
  const QFileInfo info(source);
  const bool folder = info.isDir();
  if (folder ? !QFileInfo::exists(QDir(source).filePath("config.json")) ||
                   !QFileInfo::exists(QDir(source).filePath("model.safetensors"))
             : !(info.isFile() && source.endsWith(QLatin1String(".pth")))) {
    showMessage(tr("%1 is not a Hugging Face BLIP folder (config.json and model.safetensors) or a "
                   "Salesforce .pth file.").arg(source), true);
    return 0;
  }
  const QDir models(QDir(QFileInfo(document_->path()).absolutePath()).filePath("models"));
  models.mkpath(".");
  const QString base = folder ? info.fileName() : info.completeBaseName();
  QString name = base;
  for (int n = 2; models.exists(name); ++n) name = QStringLiteral("%1-%2").arg(base).arg(n);
  JobRequest r;
  r.kind = QStringLiteral("import-weights");
  r.title = tr("Import weights · %1").arg(base);
  r.output_model = models.filePath(name);
  r.arguments << "import-weights" << info.absoluteFilePath() << "-o" << r.output_model;
  r.studio_row = true;
  r.json = false;
  const int key = jobs_->launch(r);
  if (key > 0)
    showMessage(tr("Importing %1 into %2 (see the Jobs tab); the model appears here when done.")
                    .arg(source, r.output_model), false);
  return key;
}

void ModelsPanel::showMessage(const QString& text, bool error) {
  message_->setText(text);
  message_->setStyleSheet(error ? "color: #a01010;" : "color: #205020;");
}

QString ModelsPanel::message() const { return message_->text(); }

}  // namespace capfilt::ui
