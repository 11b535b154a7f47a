#pragma once
// The model picker the demo views and the retrieval explorer share: a combo box listing the demo
// models (when the demo project has trained them), the open project's models, the folders and
// checkpoint files the user opened (an imported Hugging Face folder, a capfilt checkpoint folder,
// a Salesforce .pth), and "Open folder…" / "Open checkpoint file…" to add one.
//
// It only names models (paths); opening them is EngineCache's job. GUI thread.

#include <QList>
#include <QString>
#include <QWidget>
#include <vector>

#include "db/records.h"

class QComboBox;

namespace capfilt::ui {

class ModelSelector : public QWidget {
  Q_OBJECT

 public:
  enum class Origin { kDemo, kProject, kOpened };
  struct Entry {
    QString label;
    QString path;
    QString task;  // "captioner", "filter", "pretrain", "vqa", ...; "" when not known
    Origin origin = Origin::kOpened;
  };

  // `title` labels the box ("Captioner", "Scorer").
  explicit ModelSelector(const QString& title, QWidget* parent = nullptr);

  // The folder `capfilt demo-models` trained into (holding demo-models.json); its models are
  // listed when they exist. Empty: none.
  void setDemoModelsFolder(const QString& folder);
  void setProjectModels(const std::vector<db::ModelRecord>& models);
  // Lists a model the user opened (once) and selects it.
  void addOpenedModel(const QString& path);
  // While nothing was chosen by hand: select the first model of this task (else the first model).
  void setPreferredTask(const QString& task);

  QString currentPath() const;
  bool selectPath(const QString& path);
  const QList<Entry>& entries() const { return entries_; }
  QComboBox* combo() const { return combo_; }

 Q_SIGNALS:
  void modelChanged(const QString& path);

 private:
  void rebuild();
  void onActivated(int index);
  void chooseDefault();

  QComboBox* combo_;
  QList<Entry> demo_, project_, opened_, entries_;
  QString preferred_task_;
  QString current_;
  bool chosen_by_hand_ = false;
};

}  // namespace capfilt::ui
