#pragma once
// CapFilt's progress as job lines (core/job_progress.h), shared by `capfilt capfilt` and
// `capfilt demo-project`: a start line once the work is known, then a progress line after every
// batch (with a "failed" metric once images failed).

#include <cstdint>
#include <functional>
#include <string>

#include "core/capfilt_run.h"
#include "core/job_progress.h"

namespace capfilt::app {

// Callbacks writing to `out` (which must outlive the run); `stage` is set on every line when not
// empty; `stop` becomes the run's cancellation check.
core::CapfiltCallbacks capfilt_progress(core::ProgressWriter& out, int64_t job_id,
                                        const std::string& stage, std::function<bool()> stop);

}  // namespace capfilt::app
