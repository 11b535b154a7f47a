#include "ui/review/review_actions.h"

namespace capfilt::ui {

const std::vector<ReviewActionInfo>& review_actions() {
  static const std::vector<ReviewActionInfo> actions = {
      {ReviewAction::kPrevious, "review.previous", "Previous", "go to the previous pair",
       QKeySequence(Qt::Key_Left)},
      {ReviewAction::kNext, "review.next", "Next", "go to the next pair",
       QKeySequence(Qt::Key_Right)},
      {ReviewAction::kKeep, "review.keep", "Keep", "keep this caption", QKeySequence(Qt::Key_K)},
      {ReviewAction::kDrop, "review.drop", "Drop", "drop this caption", QKeySequence(Qt::Key_D)},
      {ReviewAction::kAcceptProposal, "review.accept", "Accept proposal",
       "accept CapFilt's proposal for this caption", QKeySequence(Qt::Key_A)},
      {ReviewAction::kSwapToSynthetic, "review.swap", "Use synthetic",
       "drop the web caption and keep the synthetic one instead", QKeySequence(Qt::Key_S)},
      {ReviewAction::kEdit, "review.edit", "Edit caption",
       "write a corrected caption (stored as a human caption and kept)", QKeySequence(Qt::Key_E)},
      {ReviewAction::kUndo, "review.undo", "Undo", "undo the last action",
       QKeySequence(Qt::CTRL | Qt::Key_Z)},
      {ReviewAction::kRedo, "review.redo", "Redo", "redo what was undone",
       QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z)},
      {ReviewAction::kToggleAutoAdvance, "review.auto_advance", "Auto-advance",
       "move on after each decision (toggle)", QKeySequence(Qt::Key_T)},
      {ReviewAction::kHelp, "review.help", "Help", "show or hide this list",
       QKeySequence(Qt::Key_Question)},
  };
  return actions;
}

}  // namespace capfilt::ui
