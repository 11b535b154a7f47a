#include "ui/jobs/job_form.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/jobs/data_selection.h"
#include "ui/jobs/job_presets.h"
#include "ui/models/model_choice.h"
#include "ui/shared/project_document.h"

namespace capfilt::ui {
namespace {

QSpinBox* spin(QWidget* parent, const char* name, int min, int max, int value) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(name);
  box->setRange(min, max);
  box->setValue(value);
  box->setGroupSeparatorShown(true);
  return box;
}

QDoubleSpinBox* real(QWidget* parent, const char* name, double min, double max, int decimals,
                     double value) {
  auto* box = new QDoubleSpinBox(parent);
  box->setObjectName(name);
  box->setDecimals(decimals);
  box->setRange(min, max);
  box->setValue(value);
  return box;
}

// A line edit with a "…" button that picks a file.
QWidget* file_field(QWidget* parent, QLineEdit* edit, const QString& title) {
  auto* row = new QWidget(parent);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* pick = new QToolButton(row);
  pick->setText(QStringLiteral("…"));
  layout->addWidget(edit, 1);
  layout->addWidget(pick);
  QObject::connect(pick, &QToolButton::clicked, row, [row, edit, title] {
    const QString file = QFileDialog::getOpenFileName(row, title, edit->text(),
                                                      QObject::tr("JSON files (*.json);;All files (*)"));
    if (!file.isEmpty()) edit->setText(file);
  });
  return row;
}

QString number(double v) { return QString::number(v, 'g', 10); }

}  // namespace

JobForm::JobForm(ProjectDocument* document, QWidget* parent) : QWidget(parent), document_(document) {
  kind_ = new QComboBox(this);
  kind_->setObjectName("kind");
  kind_->addItems({tr("Pre-train BLIP"), tr("Fine-tune the captioner"), tr("Fine-tune the filter"),
                   tr("Fine-tune VQA"), tr("CapFilt run (caption and filter the project)"),
                   tr("Evaluate a model")});
  pages_ = new QStackedWidget(this);
  QWidget* train = buildTrainPage();
  pages_->addWidget(train);
  pages_->addWidget(buildCapfiltPage());
  pages_->addWidget(buildEvalPage());
  problems_ = new QLabel(this);
  problems_->setObjectName("problems");
  problems_->setWordWrap(true);
  problems_->setStyleSheet("color: #a01010;");
  problems_->hide();
  launch_ = new QPushButton(tr("Launch"), this);
  launch_->setObjectName("launch");
  launch_->setDefault(true);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(kind_);
  layout->addWidget(pages_, 1);
  layout->addWidget(problems_);
  layout->addWidget(launch_, 0, Qt::AlignRight);
  connect(kind_, &QComboBox::currentIndexChanged, this, [this](int) {
    const Kind k = kind();
    pages_->setCurrentIndex(k == Kind::kCapfilt ? 1 : k == Kind::kEval ? 2 : 0);
    prompt_->setEnabled(k == Kind::kCaptioner);
    applyPreset();
    problems_->hide();
  });
  connect(launch_, &QPushButton::clicked, this, &JobForm::submit);
  refreshModels();
  applyPreset();
  prompt_->setEnabled(false);  // the first page is pre-training: no prompt
}

QWidget* JobForm::buildTrainPage() {
  auto* page = new QWidget(this);
  start_from_ = new QComboBox(page);
  start_from_->setObjectName("start_from");
  preset_ = new QComboBox(page);
  preset_->setObjectName("preset");
  preset_->addItems(train_presets());
  steps_ = spin(page, "steps", 0, 10'000'000, 150);
  steps_->setSpecialValueText(tr("by epochs"));
  epochs_ = spin(page, "epochs", 0, 1000, 0);
  batch_ = spin(page, "batch_size", 1, 4096, 16);
  lr_ = real(page, "lr", 0, 1, 7, 1e-3);
  warmup_ = spin(page, "warmup_steps", 0, 1'000'000, 0);
  weight_decay_ = real(page, "weight_decay", 0, 1, 3, 0.05);
  image_size_ = spin(page, "image_size", 0, 1024, 0);
  image_size_->setSpecialValueText(tr("the model's"));
  image_size_->setSingleStep(16);
  seed_ = spin(page, "seed", 0, 1'000'000'000, 0);
  checkpoint_every_ = spin(page, "checkpoint_every", 0, 10'000'000, 0);
  checkpoint_every_->setSpecialValueText(tr("at the end and when stopped"));
  log_every_ = spin(page, "log_every", 1, 100'000, 1);
  prompt_ = new QLineEdit(QStringLiteral("a picture of "), page);
  prompt_->setObjectName("prompt");
  name_ = new QLineEdit(page);
  name_->setObjectName("name");
  name_->setPlaceholderText(tr("default: <task> job N"));
  annotations_ = new QLineEdit(page);
  annotations_->setObjectName("annotations");
  annotations_->setPlaceholderText(tr("optional; VQA: required (vqa_train.json layout)"));
  data_ = new DataSelection(page);
  auto* form = new QFormLayout(page);
  form->addRow(tr("Start from:"), start_from_);
  form->addRow(tr("Model preset:"), preset_);
  form->addRow(tr("Steps:"), steps_);
  form->addRow(tr("Epochs (when steps is 0):"), epochs_);
  form->addRow(tr("Batch size:"), batch_);
  form->addRow(tr("Learning rate:"), lr_);
  form->addRow(tr("Warm-up steps:"), warmup_);
  form->addRow(tr("Weight decay:"), weight_decay_);
  form->addRow(tr("Image size:"), image_size_);
  form->addRow(tr("Seed:"), seed_);
  form->addRow(tr("Checkpoint every:"), checkpoint_every_);
  form->addRow(tr("Chart every N steps:"), log_every_);
  form->addRow(tr("Caption prompt:"), prompt_);
  form->addRow(tr("Model name:"), name_);
  form->addRow(tr("Annotation file instead:"), file_field(page, annotations_, tr("Annotation file")));
  form->addRow(data_);
  connect(preset_, &QComboBox::currentIndexChanged, this, [this](int) { applyPreset(); });
  connect(start_from_, &QComboBox::currentIndexChanged, this,
          [this](int) { preset_->setEnabled(start_from_->currentData().toLongLong() == 0); });
  return page;
}

QWidget* JobForm::buildCapfiltPage() {
  auto* page = new QWidget(this);
  captioner_ = new QComboBox(page);
  captioner_->setObjectName("captioner");
  filter_ = new QComboBox(page);
  filter_->setObjectName("filter");
  method_ = new QComboBox(page);
  method_->setObjectName("method");
  method_->addItems({"nucleus", "beam", "greedy"});
  captions_ = spin(page, "captions", 1, 20, 1);
  threshold_ = real(page, "threshold", 0, 1, 2, 0.5);
  threshold_->setSingleStep(0.05);
  capfilt_split_ = new QComboBox(page);
  capfilt_split_->setObjectName("capfilt_split");
  capfilt_split_->addItem(tr("every split"), QString());
  for (const char* s : {"train", "val", "test"}) capfilt_split_->addItem(s, QString(s));
  capfilt_batch_ = spin(page, "capfilt_batch", 1, 1024, 8);
  max_images_ = spin(page, "max_images", 0, 100'000'000, 0);
  max_images_->setSpecialValueText(tr("all"));
  auto* form = new QFormLayout(page);
  form->addRow(tr("Captioner:"), captioner_);
  form->addRow(tr("Filter:"), filter_);
  form->addRow(tr("Sampling:"), method_);
  form->addRow(tr("Synthetic captions per image:"), captions_);
  form->addRow(tr("Drop below ITM:"), threshold_);
  form->addRow(tr("Images of split:"), capfilt_split_);
  form->addRow(tr("Images per batch:"), capfilt_batch_);
  form->addRow(tr("At most images:"), max_images_);
  return page;
}

QWidget* JobForm::buildEvalPage() {
  auto* page = new QWidget(this);
  eval_kind_ = new QComboBox(page);
  eval_kind_->setObjectName("eval_kind");
  eval_kind_->addItem(tr("Retrieval (R@1/5/10, ITC and ITM re-ranked)"), "retrieval");
  eval_kind_->addItem(tr("Captioning (BLEU-4, CIDEr-D)"), "caption");
  eval_kind_->addItem(tr("Filter against noise labels"), "filter");
  eval_kind_->addItem(tr("VQA accuracy"), "vqa");
  eval_model_ = new QComboBox(page);
  eval_model_->setObjectName("eval_model");
  eval_split_ = new QComboBox(page);
  eval_split_->setObjectName("eval_split");
  for (const char* s : {"test", "val", "train"}) eval_split_->addItem(s, QString(s));
  eval_k_ = spin(page, "eval_k", 1, 4096, 128);
  eval_file_ = new QLineEdit(page);
  eval_file_->setObjectName("eval_file");
  eval_file_->setPlaceholderText(tr("filter: noise_labels.json / CSV; VQA: vqa_test.json"));
  auto* form = new QFormLayout(page);
  form->addRow(tr("Evaluation:"), eval_kind_);
  form->addRow(tr("Model:"), eval_model_);
  form->addRow(tr("Project split:"), eval_split_);
  form->addRow(tr("ITM re-ranks the ITC top k:"), eval_k_);
  form->addRow(tr("Labels / questions file:"), file_field(page, eval_file_, tr("Labels or questions")));
  return page;
}

void JobForm::setKind(Kind kind) { kind_->setCurrentIndex(static_cast<int>(kind)); }
JobForm::Kind JobForm::kind() const { return static_cast<Kind>(kind_->currentIndex()); }

QString JobForm::task() const {
  switch (kind()) {
    case Kind::kPretrain: return QStringLiteral("pretrain");
    case Kind::kCaptioner: return QStringLiteral("captioner");
    case Kind::kFilter: return QStringLiteral("filter");
    case Kind::kVqa: return QStringLiteral("vqa");
    default: return {};
  }
}

void JobForm::applyPreset() {
  if (task().isEmpty()) return;
  const TrainDefaults d = train_defaults(preset_->currentText(), task());
  steps_->setValue(static_cast<int>(d.steps));
  epochs_->setValue(static_cast<int>(d.epochs));
  batch_->setValue(static_cast<int>(d.batch_size));
  lr_->setValue(d.lr);
  warmup_->setValue(static_cast<int>(d.warmup_steps));
  weight_decay_->setValue(d.weight_decay);
  image_size_->setValue(static_cast<int>(d.image_size));
  log_every_->setValue(static_cast<int>(d.log_every));
}

void JobForm::fillModels(QComboBox* box, const QString& task, qint64 selected, bool with_none) {
  box->clear();
  if (with_none) box->addItem(tr("a new model from the preset"), qint64(0));
  auto models = document_->project().models();
  if (!models) return;
  for (const db::ModelRecord& m : *models) {
    // Scores imported without a model folder: only a filter evaluation can use such a model.
    if (m.checkpoint_path.empty() && box != eval_model_) continue;
    if (!task.isEmpty() && m.task != task.toStdString()) continue;
    box->addItem(tr("#%1 %2 (%3)").arg(m.id).arg(QString::fromStdString(m.name),
                                                  QString::fromStdString(m.task)),
                 qint64(m.id));
  }
  const int i = box->findData(selected);
  if (i >= 0) box->setCurrentIndex(i);
}

void JobForm::refreshModels() {
  db::Project& p = document_->project();
  fillModels(start_from_, {}, start_from_->currentData().toLongLong(), true);
  fillModels(captioner_, {}, chosen_captioner(p), false);
  fillModels(filter_, {}, chosen_filter(p), false);
  fillModels(eval_model_, {}, eval_model_->count() ? eval_model_->currentData().toLongLong()
                                                   : chosen_filter(p),
             false);
}

void JobForm::prepareEvaluation(qint64 model_id) {
  refreshModels();
  setKind(Kind::kEval);
  const int i = eval_model_->findData(model_id);
  if (i >= 0) eval_model_->setCurrentIndex(i);
  auto m = document_->project().model(model_id);
  const std::string task = m ? m->task : std::string();
  const char* what = task == "captioner" ? "caption" : task == "vqa" ? "vqa" : "retrieval";
  eval_kind_->setCurrentIndex(eval_kind_->findData(QString(what)));
}

Result<JobRequest> JobForm::request() const {
  switch (kind()) {
    case Kind::kCapfilt: return capfiltRequest();
    case Kind::kEval: return evalRequest();
    default: return trainRequest();
  }
}

namespace {

// The checkpoint folder of the model chosen in `box`; a problem line when there is none.
QString model_folder(ProjectDocument* doc, const QComboBox* box, const QString& role,
                     QStringList* problems, qint64* id = nullptr) {
  const qint64 model_id = box->currentData().toLongLong();
  if (id) *id = model_id;
  if (model_id == 0) {
    problems->append(QObject::tr("Choose the %1: the project has no model with a checkpoint folder "
                                 "for it yet (train one, or import weights in the Models tab).")
                         .arg(role));
    return {};
  }
  auto m = doc->project().model(model_id);
  if (!m) {
    problems->append(QString::fromStdString(m.status().message()));
    return {};
  }
  const QString folder = QString::fromStdString(m->checkpoint_path);
  if (folder.isEmpty()) {
    problems->append(QObject::tr("Model #%1 has no checkpoint folder (only its scores are in the "
                                 "project): choose another %2.").arg(model_id).arg(role));
  } else if (!QFileInfo(folder).exists()) {
    problems->append(QObject::tr("The %1's checkpoint %2 is missing; it may have been moved or "
                                 "deleted.").arg(role, folder));
  }
  return folder;
}

}  // namespace

Result<JobRequest> JobForm::trainRequest() const {
  QStringList problems;
  JobRequest r;
  r.kind = QStringLiteral("train");
  r.train = true;
  const qint64 init = start_from_->currentData().toLongLong();
  r.arguments << "train" << task() << "--project" << document_->path();
  if (init == 0) {
    r.arguments << "--preset" << preset_->currentText();
  } else {
    qint64 id = 0;
    const QString folder = model_folder(document_, start_from_, tr("model to start from"), &problems, &id);
    r.arguments << "--init" << folder << "--parent-model" << QString::number(id);
  }
  if (steps_->value() == 0 && epochs_->value() == 0)
    problems << tr("Set the number of steps, or of epochs (with steps at 0).");
  if (steps_->value() > 0)
    r.arguments << "--steps" << QString::number(steps_->value());
  else
    r.arguments << "--steps" << "0" << "--epochs" << QString::number(epochs_->value());
  if (lr_->value() <= 0) problems << tr("The learning rate must be above 0.");
  if (warmup_->value() > 0 && steps_->value() > 0 && warmup_->value() >= steps_->value())
    problems << tr("The warm-up (%1 steps) must be shorter than the job (%2 steps).")
                    .arg(warmup_->value())
                    .arg(steps_->value());
  r.arguments << "--batch-size" << QString::number(batch_->value()) << "--lr" << number(lr_->value())
              << "--warmup-steps" << QString::number(warmup_->value()) << "--weight-decay"
              << number(weight_decay_->value()) << "--seed" << QString::number(seed_->value())
              << "--checkpoint-every" << QString::number(checkpoint_every_->value())
              << "--log-every" << QString::number(log_every_->value());
  if (image_size_->value() > 0) {
    if (image_size_->value() % 16 != 0)
      problems << tr("The image size must be a multiple of the 16-pixel patch (it is %1).")
                      .arg(image_size_->value());
    r.arguments << "--image-size" << QString::number(image_size_->value());
  }
  if (kind() == Kind::kCaptioner) r.arguments << "--prompt" << prompt_->text();
  if (!name_->text().trimmed().isEmpty()) r.arguments << "--name" << name_->text().trimmed();
  const QString annotations = annotations_->text().trimmed();
  if (!annotations.isEmpty()) {
    if (!QFileInfo(annotations).isFile())
      problems << tr("The annotation file %1 does not exist.").arg(annotations);
    r.arguments << "--annotations" << annotations;
  } else if (kind() == Kind::kVqa) {
    problems << tr("Fine-tuning VQA needs a question file (the vqa_train.json layout: image, "
                   "question, answers): the project holds captions, not questions.");
  } else {
    // The project's pairs, selected as in the browser; images from the studio's images folder.
    const QString root = document_->imagesRoot();
    if (root.isEmpty() || !QFileInfo(root).isDir())
      problems << tr("The images folder %1 does not exist: set it with Edit ▸ Images folder.")
                      .arg(root.isEmpty() ? tr("(not set)") : root);
    r.arguments << "--image-root" << root;
    r.arguments << data_->trainArguments();
    db::PageRequest count;
    count.filter = data_->filter();
    auto n = document_->project().count(count);
    if (!n) {
      problems << QString::fromStdString(n.status().message());
    } else if (*n < batch_->value()) {
      problems << tr("The data selection holds %n pair(s), fewer than one batch of %1: widen the "
                     "selection or lower the batch size.", nullptr, static_cast<int>(*n))
                      .arg(batch_->value());
    }
  }
  r.title = tr("%1 · %2 · %3")
                .arg(kind_->currentText(),
                     init == 0 ? preset_->currentText() : start_from_->currentText(),
                     steps_->value() > 0 ? tr("%n step(s)", nullptr, steps_->value())
                                         : tr("%n epoch(s)", nullptr, epochs_->value()));
  if (!problems.isEmpty()) return Status::invalid(problems.join('\n').toStdString());
  return r;
}

Result<JobRequest> JobForm::capfiltRequest() const {
  QStringList problems;
  JobRequest r;
  r.kind = QStringLiteral("capfilt");
  const QString captioner = model_folder(document_, captioner_, tr("captioner"), &problems);
  const QString filter = model_folder(document_, filter_, tr("filter"), &problems);
  r.arguments << "capfilt" << document_->path() << "--captioner" << captioner << "--filter" << filter
              << "--method" << method_->currentText() << "--captions"
              << QString::number(captions_->value()) << "--threshold" << number(threshold_->value())
              << "--batch" << QString::number(capfilt_batch_->value());
  const QString split = capfilt_split_->currentData().toString();
  if (!split.isEmpty()) r.arguments << "--split" << split;
  if (max_images_->value() > 0) r.arguments << "--max-images" << QString::number(max_images_->value());
  r.title = tr("CapFilt · %1 · ITM < %2").arg(method_->currentText()).arg(threshold_->value());
  if (!problems.isEmpty()) return Status::invalid(problems.join('\n').toStdString());
  return r;
}

Result<JobRequest> JobForm::evalRequest() const {
  QStringList problems;
  JobRequest r;
  r.kind = QStringLiteral("eval");
  r.studio_row = true;
  const QString what = eval_kind_->currentData().toString();
  qint64 id = 0;
  QStringList model_problems;
  const QString model =
      model_folder(document_, eval_model_, tr("model to evaluate"), &model_problems, &id);
  // A filter evaluation judges the scores stored in the project: it needs no checkpoint.
  if (what != "filter" || id == 0) problems << model_problems;
  const QString file = eval_file_->text().trimmed();
  if ((what == "filter" || what == "vqa") && !QFileInfo(file).isFile())
    problems << (what == "filter"
                     ? tr("Evaluating a filter needs its noise labels (the demo data's "
                          "ground-truth/noise_labels.json, or a CSV).")
                     : tr("Evaluating VQA needs a question file (the demo data's vqa_test.json)."));
  r.arguments << "eval" << what;
  if (what == "filter") {
    r.arguments << "--project" << document_->path() << "--labels" << file << "--model-id"
                << QString::number(id);
  } else if (what == "vqa") {
    r.arguments << "--model" << model << "--questions" << file << "--project" << document_->path()
                << "--model-id" << QString::number(id);
  } else {
    const QString split = eval_split_->currentData().toString();
    db::PageRequest count;
    count.filter.split = split.toStdString();
    auto n = document_->project().count(count);
    if (n && *n == 0)
      problems << tr("The project has no pairs in its %1 split to evaluate on.").arg(split);
    r.arguments << "--model" << model << "--project" << document_->path() << "--model-id"
                << QString::number(id) << "--split" << split << "--images" << document_->imagesRoot();
    if (what == "retrieval") r.arguments << "--k" << QString::number(eval_k_->value());
  }
  r.title = tr("Evaluate %1 · %2").arg(what, eval_model_->currentText());
  if (!problems.isEmpty()) return Status::invalid(problems.join('\n').toStdString());
  return r;
}

void JobForm::submit() {
  auto r = request();
  if (!r) {
    problems_->setText(QString::fromStdString(r.status().message()));
    problems_->show();
    return;
  }
  problems_->hide();
  problems_->clear();
  Q_EMIT launchRequested(*r);
}

QString JobForm::problems() const { return problems_->text(); }

}  // namespace capfilt::ui
