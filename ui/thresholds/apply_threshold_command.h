#pragma once
// Applying a threshold as one undoable step: redo writes the threshold's automatic decisions
// (apply_threshold), undo takes back exactly the rows that application logged
// (db::Project::undo_automatic), so the decision log records both and stays the truth.

#include <QUndoCommand>

#include <cstdint>
#include <memory>
#include <string>

namespace capfilt::ui {

class ProjectDocument;

class ApplyThresholdCommand : public QUndoCommand {
 public:
  // `document` must outlive the command.
  ApplyThresholdCommand(ProjectDocument* document, double threshold);

  void redo() override;
  void undo() override;

 private:
  ProjectDocument* document_;
  double threshold_;
  std::string rule_;
  // The newest log row before the last redo; shared with the queued write that fills it in.
  std::shared_ptr<int64_t> logged_after_ = std::make_shared<int64_t>(0);
};

}  // namespace capfilt::ui
