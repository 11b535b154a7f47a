#include "ui/data/import_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <QPointer>

#include <memory>

#include "core/dataset_readers.h"
#include "core/importer.h"
#include "ui/data/background_job.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {

namespace {
const core::DatasetFormat kFormats[] = {
    core::DatasetFormat::kAuto,  core::DatasetFormat::kCoco,  core::DatasetFormat::kKarpathy,
    core::DatasetFormat::kBlipJson, core::DatasetFormat::kCsv, core::DatasetFormat::kJsonl,
    core::DatasetFormat::kFolder, core::DatasetFormat::kWebDataset};
const char* const kFormatLabels[] = {"detect", "COCO captions", "Karpathy split", "BLIP JSON",
                                     "CSV / TSV", "JSONL", "caption folder", "WebDataset shards"};
constexpr int kPreviewRows = 20;
}  // namespace

ImportDialog::ImportDialog(ProjectDocument* document, QWidget* parent)
    : QDialog(parent), document_(document) {
  setWindowTitle(tr("Import a dataset"));
  preview_job_ = new BackgroundJob(this);
  import_job_ = new BackgroundJob(this);
  auto* outer = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  auto* path_row = new QHBoxLayout;
  path_ = new QLineEdit(this);
  auto* file = new QPushButton(tr("File…"), this);
  auto* folder = new QPushButton(tr("Folder…"), this);
  path_row->addWidget(path_, 1);
  path_row->addWidget(file);
  path_row->addWidget(folder);
  form->addRow(tr("Dataset"), path_row);
  format_ = new QComboBox(this);
  for (const char* label : kFormatLabels) format_->addItem(tr(label));
  form->addRow(tr("Format"), format_);
  source_ = new QComboBox(this);
  source_->addItems({tr("web (noisy, to be filtered)"), tr("synthetic"), tr("human (trusted)")});
  form->addRow(tr("Captions are"), source_);
  split_ = new QLineEdit(this);
  split_->setPlaceholderText(tr("for records whose dataset names no split (train, val, test)"));
  form->addRow(tr("Split"), split_);
  check_ = new QComboBox(this);
  check_->addItems({tr("exists (fastest)"), tr("header: hash, format, truncation"), tr("full decode")});
  check_->setCurrentIndex(1);
  form->addRow(tr("Check images"), check_);
  outer->addLayout(form);

  preview_note_ = new QLabel(tr("Choose a dataset to see its first records."), this);
  outer->addWidget(preview_note_);
  preview_ = new QTableWidget(0, 3, this);
  preview_->setHorizontalHeaderLabels({tr("image"), tr("caption"), tr("split")});
  preview_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  preview_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  outer->addWidget(preview_, 2);
  progress_ = new QProgressBar(this);
  progress_->hide();
  outer->addWidget(progress_);
  report_ = new QPlainTextEdit(this);
  report_->setReadOnly(true);
  report_->setPlaceholderText(tr("The import's report (records left out, and why) appears here."));
  outer->addWidget(report_, 1);
  auto* buttons = new QDialogButtonBox(this);
  import_ = buttons->addButton(tr("Import"), QDialogButtonBox::AcceptRole);
  cancel_ = buttons->addButton(tr("Cancel import"), QDialogButtonBox::ActionRole);
  cancel_->setEnabled(false);
  buttons->addButton(QDialogButtonBox::Close);
  outer->addWidget(buttons);
  resize(860, 640);

  connect(file, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, tr("Dataset file"));
    if (!p.isEmpty()) setSource(p);
  });
  connect(folder, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getExistingDirectory(this, tr("Caption folder or WebDataset shards"));
    if (!p.isEmpty()) setSource(p);
  });
  connect(path_, &QLineEdit::editingFinished, this, &ImportDialog::preview);
  connect(format_, &QComboBox::currentIndexChanged, this, &ImportDialog::preview);
  connect(import_, &QPushButton::clicked, this, &ImportDialog::startImport);
  connect(cancel_, &QPushButton::clicked, import_job_, &BackgroundJob::cancel);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  connect(preview_job_, &BackgroundJob::finished, this, [this](bool ok, const QString& text) {
    preview_note_->setText(text);
    if (!ok) preview_->setRowCount(0);
  });
  connect(import_job_, &BackgroundJob::progress, this, [this](qint64 done, qint64 total, const QString& text) {
    progress_->setRange(0, total > 0 ? 1000 : 0);
    if (total > 0) progress_->setValue(static_cast<int>(1000 * done / total));
    progress_->setFormat(text);
  });
  connect(import_job_, &BackgroundJob::finished, this, [this](bool, const QString& text) {
    progress_->hide();
    import_->setEnabled(true);
    cancel_->setEnabled(false);
    report_->setPlainText(text);
    document_->notifyExternalChange();  // new pairs: the views reload
    Q_EMIT imported();
  });
}

ImportDialog::~ImportDialog() = default;

void ImportDialog::setSource(const QString& path) {
  path_->setText(path);
  preview();
}
void ImportDialog::setCaptionSource(int index) { source_->setCurrentIndex(index); }
QString ImportDialog::reportText() const { return report_->toPlainText(); }
int ImportDialog::previewRows() const { return preview_->rowCount(); }
bool ImportDialog::importRunning() const { return import_job_->running(); }

void ImportDialog::preview() {
  const std::string path = path_->text().trimmed().toStdString();
  if (path.empty()) return;
  core::DatasetFormat format = kFormats[format_->currentIndex()];
  if (format == core::DatasetFormat::kAuto) {
    auto detected = core::detect_format(path);
    if (!detected) {
      preview_note_->setText(QString::fromStdString(detected.status().message()));
      return;
    }
    format = *detected;
  }
  if (format == core::DatasetFormat::kWebDataset) {
    preview_->setRowCount(0);
    preview_note_->setText(tr("WebDataset shards: the import extracts the images; no preview."));
    return;
  }
  preview_note_->setText(tr("Reading %1 …").arg(path_->text()));
  // The rows are built on the worker and handed over by queued call, with the closing note.
  QPointer<QTableWidget> table(preview_);
  preview_job_->start([path, format, table](BackgroundJob::Context&) -> Result<QString> {
    auto contents = core::read_dataset(path, format);
    if (!contents) return contents.status();
    std::vector<core::DatasetRecord> first(
        contents->records.begin(),
        contents->records.begin() + std::min<size_t>(kPreviewRows, contents->records.size()));
    QMetaObject::invokeMethod(table.data(), [table, first] {
      if (!table) return;
      table->setRowCount(static_cast<int>(first.size()));
      for (int r = 0; r < static_cast<int>(first.size()); ++r) {
        table->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(first[r].image)));
        table->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(first[r].caption)));
        table->setItem(r, 2, new QTableWidgetItem(QString::fromStdString(first[r].split)));
      }
    }, Qt::QueuedConnection);
    return QObject::tr("%L1 (%2): %L3 records, %L4 left out by the reader; the first %5 below.")
        .arg(QString::fromStdString(path), QString::fromLatin1(core::format_name(format)))
        .arg(static_cast<qlonglong>(contents->records.size()))
        .arg(static_cast<qlonglong>(contents->skipped.size()))
        .arg(std::min<size_t>(kPreviewRows, contents->records.size()));
  });
}

void ImportDialog::startImport() {
  const std::string source = path_->text().trimmed().toStdString();
  if (source.empty() || import_job_->running()) return;
  core::ImportOptions options;
  options.format = kFormats[format_->currentIndex()];
  const db::CaptionSource sources[] = {db::CaptionSource::kWeb, db::CaptionSource::kSynthetic,
                                       db::CaptionSource::kHuman};
  options.source = sources[source_->currentIndex()];
  options.split = split_->text().trimmed().toStdString();
  const core::ImageCheck checks[] = {core::ImageCheck::kNone, core::ImageCheck::kHeader,
                                     core::ImageCheck::kDecode};
  options.image_check = checks[check_->currentIndex()];
  const std::string project_path = document_->path().toStdString();
  progress_->setRange(0, 0);
  progress_->setFormat(tr("starting…"));
  progress_->show();
  import_->setEnabled(false);
  cancel_->setEnabled(true);
  report_->clear();
  import_job_->start([source, options, project_path](BackgroundJob::Context& context) mutable
                     -> Result<QString> {
    db::OpenOptions open;
    open.create_if_missing = false;
    auto project = db::Project::open(project_path, open);  // this thread's own connection
    if (!project) return project.status();
    options.progress = [&context](const core::ImportProgress& p) {
      context.report(p.records_done, p.records_total,
                     QObject::tr("%L1 / %L2 records").arg(p.records_done).arg(p.records_total));
    };
    options.cancelled = [&context] { return context.cancelled(); };
    auto report = core::import_dataset(*project.value(), source, options);
    if (!report) return report.status();
    QString text = QObject::tr("Import %1: %L2 records read; %L3 images and %L4 captions added, "
                               "%L5 captions already there; %L6 entries left out.")
                       .arg(QString::fromStdString(report->status))
                       .arg(report->records_read)
                       .arg(report->counts.images_added)
                       .arg(report->counts.captions_added)
                       .arg(report->counts.captions_skipped)
                       .arg(static_cast<qlonglong>(report->skipped.size()));
    if (!report->skipped.empty())
      text += QStringLiteral("\n\n") + QString::fromStdString(core::format_skipped(report->skipped));
    return text;
  });
}

ImportHistoryDialog::ImportHistoryDialog(ProjectDocument* document, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("Import history"));
  auto* outer = new QVBoxLayout(this);
  auto* table = new QTableWidget(0, 5, this);
  table->setHorizontalHeaderLabels({tr("source"), tr("format"), tr("status"), tr("captions added"),
                                    tr("left out")});
  table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  auto* report = new QPlainTextEdit(this);
  report->setReadOnly(true);
  outer->addWidget(table, 1);
  outer->addWidget(report, 1);
  auto runs = document->project().import_runs();
  auto reports = std::make_shared<QStringList>();
  if (runs) {
    table->setRowCount(static_cast<int>(runs->size()));
    for (int r = 0; r < static_cast<int>(runs->size()); ++r) {
      const db::ImportRun& run = (*runs)[r];
      table->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(run.source_path)));
      table->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(run.format)));
      table->setItem(r, 2, new QTableWidgetItem(QString::fromStdString(run.status)));
      table->setItem(r, 3, new QTableWidgetItem(QString::number(run.counts.captions_added)));
      table->setItem(r, 4, new QTableWidgetItem(QString::number(run.records_rejected)));
      reports->append(run.report.empty() ? tr("Nothing was left out.") : QString::fromStdString(run.report));
    }
  } else {
    report->setPlainText(QString::fromStdString(runs.status().message()));
  }
  connect(table, &QTableWidget::currentCellChanged, this, [report, reports](int row) {
    if (row >= 0 && row < reports->size()) report->setPlainText(reports->at(row));
  });
  if (table->rowCount() > 0) table->setCurrentCell(0, 0);
  auto* close = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
  outer->addWidget(close);
  resize(820, 520);
}

}  // namespace capfilt::ui
