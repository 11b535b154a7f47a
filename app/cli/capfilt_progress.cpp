#include "app/cli/capfilt_progress.h"

#include <memory>
#include <optional>

#include "app/cli/commands.h"

namespace capfilt::app {

core::CapfiltCallbacks capfilt_progress(core::ProgressWriter& out, int64_t job_id,
                                        const std::string& stage, std::function<bool()> stop) {
  auto meter = std::make_shared<std::optional<core::RateMeter>>();
  core::CapfiltCallbacks callbacks;
  callbacks.cancelled = std::move(stop);
  callbacks.started = [&out, job_id, stage, meter](int64_t total) {
    core::ProgressEvent e;
    e.kind = core::ProgressEventKind::kStart;
    e.time_ms = now_ms();
    e.stage = stage;
    e.job_kind = "capfilt";
    e.job_id = job_id;
    e.unit = "images";
    e.total = total;
    out.write(e);
    meter->emplace(total, e.time_ms);
  };
  callbacks.progress = [&out, stage, meter](const core::CapfiltProgress& p) {
    core::ProgressEvent e;
    e.kind = core::ProgressEventKind::kProgress;
    e.time_ms = now_ms();
    e.stage = stage;
    (*meter)->fill(e, p.images_done, e.time_ms);
    if (p.images_failed) e.metrics["failed"] = static_cast<double>(p.images_failed);
    out.write(e);
  };
  return callbacks;
}

}  // namespace capfilt::app
