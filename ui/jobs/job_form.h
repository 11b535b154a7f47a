#pragma once
// The "New job" form: one page per job the command line has (pre-train, fine-tune captioner /
// filter / VQA, a CapFilt run, an evaluation). Training pages take their defaults from the chosen
// model preset (ui/jobs/job_presets.h) and their data as the browser selects it. request()
// validates everything a curator can get wrong before anything starts, and says what to change.
//
// Thread affinity: the GUI thread. The document must outlive the form.

#include <QWidget>

#include "db/status.h"
#include "ui/jobs/job_request.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace capfilt::ui {

class DataSelection;
class ProjectDocument;

class JobForm : public QWidget {
  Q_OBJECT

 public:
  enum class Kind { kPretrain, kCaptioner, kFilter, kVqa, kCapfilt, kEval };

  JobForm(ProjectDocument* document, QWidget* parent = nullptr);
  void setKind(Kind kind);
  Kind kind() const;
  // Reloads the project's models into the model choosers (after a job or an import added one).
  void refreshModels();
  // The evaluation page, on `model_id` with the evaluation its task calls for.
  void prepareEvaluation(qint64 model_id);
  // The job the form describes, or kInvalid with every problem, one a line.
  Result<JobRequest> request() const;
  // Shows request()'s problems, or emits launchRequested.
  void submit();
  QString problems() const;  // the message last shown; empty when none
  DataSelection* dataSelection() const { return data_; }

 Q_SIGNALS:
  void launchRequested(const capfilt::ui::JobRequest& request);

 private:
  QWidget* buildTrainPage();
  QWidget* buildCapfiltPage();
  QWidget* buildEvalPage();
  void applyPreset();
  void fillModels(QComboBox* box, const QString& task, qint64 selected, bool with_none);
  Result<JobRequest> trainRequest() const;
  Result<JobRequest> capfiltRequest() const;
  Result<JobRequest> evalRequest() const;
  QString task() const;

  ProjectDocument* document_;
  QComboBox* kind_;
  QStackedWidget* pages_;
  QLabel* problems_;
  QPushButton* launch_;
  // Training
  QComboBox* start_from_;
  QComboBox* preset_;
  QSpinBox* steps_;
  QSpinBox* epochs_;
  QSpinBox* batch_;
  QDoubleSpinBox* lr_;
  QSpinBox* warmup_;
  QDoubleSpinBox* weight_decay_;
  QSpinBox* image_size_;
  QSpinBox* seed_;
  QSpinBox* checkpoint_every_;
  QSpinBox* log_every_;
  QLineEdit* prompt_;
  QLineEdit* name_;
  QLineEdit* annotations_;
  DataSelection* data_;
  // CapFilt
  QComboBox* captioner_;
  QComboBox* filter_;
  QComboBox* method_;
  QSpinBox* captions_;
  QDoubleSpinBox* threshold_;
  QComboBox* capfilt_split_;
  QSpinBox* capfilt_batch_;
  QSpinBox* max_images_;
  // Evaluation
  QComboBox* eval_kind_;
  QComboBox* eval_model_;
  QComboBox* eval_split_;
  QSpinBox* eval_k_;
  QLineEdit* eval_file_;
};

}  // namespace capfilt::ui
