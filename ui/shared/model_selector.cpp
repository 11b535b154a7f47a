#include "ui/shared/model_selector.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>

#include "core/demo_models.h"

namespace capfilt::ui {
namespace {

constexpr int kActionRole = Qt::UserRole + 1;  // "folder" / "file" on the two action items
constexpr int kPathRole = Qt::UserRole;

QString origin_prefix(ModelSelector::Origin origin) {
  switch (origin) {
    case ModelSelector::Origin::kDemo:
      return QObject::tr("Demo");
    case ModelSelector::Origin::kProject:
      return QObject::tr("Project");
    case ModelSelector::Origin::kOpened:
      return QObject::tr("Opened");
  }
  return {};
}

}  // namespace

ModelSelector::ModelSelector(const QString& title, QWidget* parent) : QWidget(parent) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* label = new QLabel(title, this);
  combo_ = new QComboBox(this);
  combo_->setMinimumContentsLength(28);
  combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  label->setBuddy(combo_);
  layout->addWidget(label);
  layout->addWidget(combo_, 1);
  connect(combo_, qOverload<int>(&QComboBox::activated), this, &ModelSelector::onActivated);
  rebuild();
}

void ModelSelector::setDemoModelsFolder(const QString& folder) {
  demo_.clear();
  if (!folder.isEmpty()) {
    auto found = core::find_demo_models(folder.toStdString());
    if (found) {
      demo_.append({tr("demo captioner"), QString::fromStdString(found->captioner), "captioner",
                    Origin::kDemo});
      demo_.append(
          {tr("demo filter"), QString::fromStdString(found->filter), "filter", Origin::kDemo});
      demo_.append({tr("demo pre-trained"), QString::fromStdString(found->pretrained), "pretrain",
                    Origin::kDemo});
    }
  }
  rebuild();
}

void ModelSelector::setProjectModels(const std::vector<db::ModelRecord>& models) {
  project_.clear();
  for (const auto& m : models) {
    if (m.checkpoint_path.empty()) continue;
    const QString task = QString::fromStdString(m.task);
    project_.append({tr("%1 (%2, #%3)").arg(QString::fromStdString(m.name), task).arg(m.id),
                     QString::fromStdString(m.checkpoint_path), task, Origin::kProject});
  }
  rebuild();
}

void ModelSelector::addOpenedModel(const QString& path) {
  bool listed = false;
  for (const auto& e : entries_) listed |= e.path == path;
  if (!listed) {
    QFileInfo info(path);
    opened_.append({info.fileName().isEmpty() ? path : info.fileName(), path, {}, Origin::kOpened});
  }
  chosen_by_hand_ = true;
  rebuild();
  selectPath(path);
}

void ModelSelector::setPreferredTask(const QString& task) {
  preferred_task_ = task;
  if (!chosen_by_hand_) chooseDefault();
}

QString ModelSelector::currentPath() const {
  return current_;
}

bool ModelSelector::selectPath(const QString& path) {
  const int index = combo_->findData(path, kPathRole);
  if (index < 0) return false;
  combo_->setCurrentIndex(index);
  if (current_ != path) {
    current_ = path;
    Q_EMIT modelChanged(current_);
  }
  return true;
}

void ModelSelector::rebuild() {
  entries_ = demo_ + project_ + opened_;
  const QSignalBlocker block(combo_);
  combo_->clear();
  for (const auto& e : entries_) {
    combo_->addItem(QStringLiteral("%1: %2").arg(origin_prefix(e.origin), e.label), e.path);
    combo_->setItemData(combo_->count() - 1, e.path, Qt::ToolTipRole);
  }
  if (entries_.isEmpty()) {
    combo_->addItem(tr("(no model: open one)"));
    combo_->setItemData(0, QString(), kPathRole);
  }
  combo_->insertSeparator(combo_->count());
  combo_->addItem(tr("Open folder…"));
  combo_->setItemData(combo_->count() - 1, "folder", kActionRole);
  combo_->addItem(tr("Open checkpoint file…"));
  combo_->setItemData(combo_->count() - 1, "file", kActionRole);
  const int index = current_.isEmpty() ? -1 : combo_->findData(current_, kPathRole);
  if (index >= 0) {
    combo_->setCurrentIndex(index);
  } else {
    current_.clear();
    chooseDefault();
  }
}

void ModelSelector::chooseDefault() {
  QString pick;
  for (const auto& e : entries_) {
    if (pick.isEmpty() && e.task == preferred_task_) pick = e.path;
  }
  if (pick.isEmpty() && !entries_.isEmpty()) pick = entries_.front().path;
  if (pick.isEmpty()) {
    combo_->setCurrentIndex(0);
    return;
  }
  selectPath(pick);
}

void ModelSelector::onActivated(int index) {
  const QString action = combo_->itemData(index, kActionRole).toString();
  if (action.isEmpty()) {
    const QString path = combo_->itemData(index, kPathRole).toString();
    if (path.isEmpty()) return;
    chosen_by_hand_ = true;
    selectPath(path);
    return;
  }
  // Back to the current model while the dialog is open (and if it is cancelled).
  const int current = combo_->findData(current_, kPathRole);
  combo_->setCurrentIndex(current >= 0 ? current : 0);
  const QString path =
      action == "folder"
          ? QFileDialog::getExistingDirectory(
                this, tr("A capfilt checkpoint or Hugging Face BLIP folder"), QDir::homePath())
          : QFileDialog::getOpenFileName(this, tr("A BLIP checkpoint"), QDir::homePath(),
                                         tr("Checkpoints (*.pth *.safetensors);;All files (*)"));
  if (path.isEmpty()) return;
  // A .safetensors file stands for the folder it is in (config.json beside it).
  addOpenedModel(path.endsWith(".safetensors") ? QFileInfo(path).absolutePath() : path);
}

}  // namespace capfilt::ui
