#include "ui/data/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/exporter.h"
#include "ui/data/background_job.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {

namespace {
const core::ExportFormat kFormats[] = {core::ExportFormat::kBlipJson, core::ExportFormat::kCoco,
                                       core::ExportFormat::kCsv, core::ExportFormat::kWebDataset};
}

ExportDialog::ExportDialog(ProjectDocument* document, QWidget* parent)
    : QDialog(parent), document_(document) {
  setWindowTitle(tr("Export the curated pairs"));
  job_ = new BackgroundJob(this);
  auto* outer = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  auto* row = new QHBoxLayout;
  output_ = new QLineEdit(this);
  output_->setPlaceholderText(tr("a file (BLIP JSON, COCO, CSV) or a folder of shards (WebDataset)"));
  auto* choose = new QPushButton(tr("Choose…"), this);
  row->addWidget(output_, 1);
  row->addWidget(choose);
  form->addRow(tr("Output"), row);
  format_ = new QComboBox(this);
  format_->addItems({tr("BLIP JSON"), tr("COCO captions"), tr("CSV"), tr("WebDataset shards")});
  form->addRow(tr("Format"), format_);
  kept_web_ = new QCheckBox(tr("kept web captions"), this);
  kept_synthetic_ = new QCheckBox(tr("kept synthetic captions"), this);
  human_ = new QCheckBox(tr("human captions (unless dropped)"), this);
  undecided_ = new QCheckBox(tr("also undecided web and synthetic captions"), this);
  for (QCheckBox* box : {kept_web_, kept_synthetic_, human_}) box->setChecked(true);
  auto* selection = new QVBoxLayout;
  for (QCheckBox* box : {kept_web_, kept_synthetic_, human_, undecided_}) selection->addWidget(box);
  form->addRow(tr("Captions"), selection);
  split_ = new QLineEdit(this);
  split_->setPlaceholderText(tr("all splits"));
  form->addRow(tr("Only split"), split_);
  absolute_ = new QCheckBox(tr("write absolute image paths"), this);
  form->addRow(QString(), absolute_);
  outer->addLayout(form);
  progress_ = new QProgressBar(this);
  progress_->hide();
  outer->addWidget(progress_);
  report_ = new QPlainTextEdit(this);
  report_->setReadOnly(true);
  outer->addWidget(report_, 1);
  auto* buttons = new QDialogButtonBox(this);
  export_ = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
  cancel_ = buttons->addButton(tr("Cancel export"), QDialogButtonBox::ActionRole);
  cancel_->setEnabled(false);
  buttons->addButton(QDialogButtonBox::Close);
  outer->addWidget(buttons);
  resize(720, 520);

  connect(choose, &QPushButton::clicked, this, [this] {
    const QString p = format_->currentIndex() == 3
                          ? QFileDialog::getExistingDirectory(this, tr("Folder for the shards"))
                          : QFileDialog::getSaveFileName(this, tr("Export to"));
    if (!p.isEmpty()) output_->setText(p);
  });
  connect(export_, &QPushButton::clicked, this, &ExportDialog::startExport);
  connect(cancel_, &QPushButton::clicked, job_, &BackgroundJob::cancel);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(job_, &BackgroundJob::progress, this, [this](qint64 done, qint64, const QString& text) {
    progress_->setRange(0, 0);
    progress_->setFormat(text);
    Q_UNUSED(done);
  });
  connect(job_, &BackgroundJob::finished, this, [this](bool, const QString& text) {
    progress_->hide();
    export_->setEnabled(true);
    cancel_->setEnabled(false);
    report_->setPlainText(text);
  });
}

void ExportDialog::setOutput(const QString& path) { output_->setText(path); }
void ExportDialog::setFormat(int index) { format_->setCurrentIndex(index); }
QString ExportDialog::reportText() const { return report_->toPlainText(); }
bool ExportDialog::running() const { return job_->running(); }

void ExportDialog::startExport() {
  const std::string output = output_->text().trimmed().toStdString();
  if (output.empty() || job_->running()) return;
  core::ExportOptions options;
  options.format = kFormats[format_->currentIndex()];
  options.selection.kept_web = kept_web_->isChecked();
  options.selection.kept_synthetic = kept_synthetic_->isChecked();
  options.selection.human = human_->isChecked();
  options.selection.undecided = undecided_->isChecked();
  options.selection.split = split_->text().trimmed().toStdString();
  options.absolute_paths = absolute_->isChecked();
  options.dataset_root = document_->imagesRoot().toStdString();
  const std::string project_path = document_->path().toStdString();
  progress_->setRange(0, 0);
  progress_->show();
  export_->setEnabled(false);
  cancel_->setEnabled(true);
  report_->clear();
  job_->start([output, options, project_path](BackgroundJob::Context& context) mutable
              -> Result<QString> {
    db::OpenOptions open;
    open.create_if_missing = false;
    auto project = db::Project::open(project_path, open);  // this thread's own connection
    if (!project) return project.status();
    options.progress = [&context](std::int64_t done) {
      context.report(done, 0, QObject::tr("%L1 pairs written").arg(done));
    };
    options.cancelled = [&context] { return context.cancelled(); };
    auto report = core::export_dataset(*project.value(), output, options);
    if (!report) return report.status();
    QString text = QObject::tr("Exported %L1 captions of %L2 images (%3).")
                       .arg(report->pairs)
                       .arg(report->images)
                       .arg(QString::fromStdString(report->contents));
    for (const auto& f : report->files) text += QStringLiteral("\n  ") + QString::fromStdString(f.string());
    if (!report->skipped.empty())
      text += QObject::tr("\n%L1 pairs left out:").arg(static_cast<qlonglong>(report->skipped.size()));
    for (const auto& s : report->skipped)
      text += QStringLiteral("\n  %1: %2").arg(QString::fromStdString(s.where), QString::fromStdString(s.reason));
    return text;
  });
}

}  // namespace capfilt::ui
