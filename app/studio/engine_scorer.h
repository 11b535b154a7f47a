#pragma once
// Wiring: the studio's scorer of edited captions backed by a core::BlipEngine. The engine is
// loaded on first use, on the scorer's worker thread, so opening a project never waits for a model.

#include <string>

#include "ui/review/caption_scorer.h"

namespace capfilt::app {

// A scoring function for the filter at `model_path`; thread-safe. A model that cannot be loaded
// makes every call return the loading error.
ui::CaptionScorer::ScoreFn engine_scorer(const std::string& model_path, const std::string& vocab_path);

}  // namespace capfilt::app
