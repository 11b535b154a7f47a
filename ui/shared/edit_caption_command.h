#pragma once
// A curator's corrected caption: stored as a new `human` caption of the image and kept, and the
// caption it corrects dropped (unless that one is human too). Undo takes both decisions back with
// db::Project::undo; the human caption stays in the project, undecided (captions are never
// deleted, so a redo finds it again instead of adding a second copy).

#include <QUndoCommand>

#include <memory>
#include <string>

#include "db/project.h"

namespace capfilt::ui {

class ProjectDocument;

class EditCaptionCommand : public QUndoCommand {
 public:
  // `edited` is the pair whose caption was corrected; `document` must outlive the command.
  EditCaptionCommand(ProjectDocument* document, const db::PairRow& edited, std::string new_text);

  void redo() override;
  void undo() override;

 private:
  ProjectDocument* document_;
  db::PairRow edited_;
  std::string new_text_;
  std::string curator_;
  // Decisions the latest redo logged (written when the queued write runs).
  std::shared_ptr<int64_t> decided_ = std::make_shared<int64_t>(0);
};

// The id of the caption (image_id, text, source), newest first; kNotFound when there is none.
Result<int64_t> find_caption(db::Project& project, int64_t image_id, const std::string& text,
                             db::CaptionSource source);

}  // namespace capfilt::ui
