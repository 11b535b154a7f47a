#pragma once
// One curator action that keeps or drops captions (keep, drop, accept the proposal, swap to the
// synthetic caption, a bulk decision): redo appends the decisions to the project's log, undo takes
// them back with db::Project::undo, so the log records the undo too and stays the truth.

#include <QUndoCommand>

#include <string>
#include <vector>

#include "db/records.h"

namespace capfilt::ui {

class ProjectDocument;

class DecideCommand : public QUndoCommand {
 public:
  // `decisions` are logged as the curator's; `document` must outlive the command.
  DecideCommand(ProjectDocument* document, std::vector<db::DecisionInput> decisions,
                const QString& text);

  void redo() override;
  void undo() override;

 private:
  ProjectDocument* document_;
  std::vector<db::DecisionInput> decisions_;
  std::string curator_;
};

}  // namespace capfilt::ui
