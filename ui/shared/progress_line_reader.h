#pragma once
// Splits bytes from a `capfilt ... --json` child (its stdout, or the log file it writes) into
// lines and parses each as the JSON-lines progress of core/job_progress.h. Used by the demo
// project runner and by the jobs panel's followers, so both read the contract the same way.
// A line that is not a progress event (a stray print, a human-readable line) comes back as text.

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

#include "core/job_progress.h"

namespace capfilt::ui {

struct ProgressLine {
  std::optional<core::ProgressEvent> event;  // set for a progress line
  QString text;  // the line as a human reads it (core::to_human_line for an event)
};

class ProgressLineReader {
 public:
  // The complete lines in what was read so far; a partial last line waits for its newline.
  std::vector<ProgressLine> feed(const QByteArray& bytes);
  // The partial line left at the end of a stream that ended without a newline.
  std::vector<ProgressLine> flush();
  void clear() { buffer_.clear(); }

 private:
  static std::optional<ProgressLine> parse(const QByteArray& raw);
  QByteArray buffer_;
};

}  // namespace capfilt::ui
