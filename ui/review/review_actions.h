#pragma once
// The review's actions: each has a stable settings name, a label for buttons and the help overlay,
// and a default key. Keys are rebound in the settings (StudioSettings::setShortcut) and persist.

#include <QKeySequence>
#include <QString>
#include <vector>

namespace capfilt::ui {

enum class ReviewAction {
  kNext,
  kPrevious,
  kKeep,
  kDrop,
  kAcceptProposal,
  kSwapToSynthetic,
  kEdit,
  kUndo,
  kRedo,
  kToggleAutoAdvance,
  kHelp,
};

struct ReviewActionInfo {
  ReviewAction action;
  const char* name;   // settings key, e.g. "review.keep"
  const char* label;  // "Keep"
  const char* help;   // one line for the help overlay
  QKeySequence default_keys;
};

// Every action, in the order buttons and the help overlay show them.
const std::vector<ReviewActionInfo>& review_actions();

}  // namespace capfilt::ui
