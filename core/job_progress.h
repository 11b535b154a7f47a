#pragma once
// The progress stream of long `capfilt` jobs (CapFilt runs, training, evaluation): what a job
// prints with --json, one JSON object per line, and what the studio reads from a child process.
// This is a contract between the command line and the studio: fields are only ever added.
//
// Every line is an object with "event" and "time_ms" (Unix milliseconds):
//   {"event":"start",     "kind":"capfilt", "job_id":7, "total":1200, "unit":"images"}
//   {"event":"progress",  "done":64, "total":1200, "rate":11.5, "eta_s":98.7,
//                          "step":64, "metrics":{"loss_itc":3.2,"lr":1e-4}}
//   {"event":"checkpoint","step":500, "path":"/…/step-500"}
//   {"event":"message",   "level":"warning", "text":"image x.jpg could not be decoded: …"}
//   {"event":"finished",  "status":"succeeded"|"failed"|"cancelled", "text":"…",
//                          "metrics":{"web_dropped":0.21,…}}
// A job of several stages (e.g. `capfilt demo-project`: data, import, models, capfilt) adds
// "stage" to start/progress/message lines; each stage's "done"/"total" count that stage's units.
// "done"/"total" count the job's unit ("images", "steps", "pairs"); "rate" is units per second
// over the run so far; "eta_s" is absent until a rate is known. "step" and "metrics" appear where
// the job has them (training: every loss term, lr, temperature, pairs_per_s). A job that dies
// without a "finished" line has crashed; its exit status and stderr say why.
//
// Torch-free and Qt-free; the writer is thread-compatible (one thread writes at a time).

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "db/status.h"

namespace capfilt::core {

enum class ProgressEventKind { kStart, kProgress, kCheckpoint, kMessage, kFinished };

struct ProgressEvent {
  ProgressEventKind kind = ProgressEventKind::kProgress;
  int64_t time_ms = 0;
  // start
  std::string job_kind;  // "capfilt", "train", "eval", …
  int64_t job_id = 0;    // the job's row in the project; 0 = none
  std::string unit;      // "images", "steps", …
  std::string stage;     // multi-stage jobs: the stage this line belongs to; empty otherwise
  // start / progress
  int64_t done = 0;
  int64_t total = 0;
  double rate = 0;                // units per second so far
  std::optional<double> eta_s;    // seconds left, when known
  std::optional<int64_t> step;    // training step (progress, checkpoint)
  std::map<std::string, double> metrics;  // progress: loss terms…; finished: the summary
  // checkpoint: the checkpoint written; finished: the job's main output (a project, a model)
  std::string path;
  // message: level "info" | "warning" | "error"; finished: status and a closing sentence
  std::string level;
  std::string status;  // finished: "succeeded", "failed", "cancelled"
  std::string text;
};

const char* to_string(ProgressEventKind kind);

// One line of JSON (no newline).
std::string to_json_line(const ProgressEvent& event);
// Parses one line written by to_json_line (unknown fields ignored, so older readers keep working).
// kInvalid naming the problem for a line that is not such an object.
Result<ProgressEvent> parse_progress_line(const std::string& line);

// Prints events as JSON lines (--json) or as human-readable text, flushing after each line so a
// reader on a pipe sees them at once.
class ProgressWriter {
 public:
  ProgressWriter(std::ostream& out, bool json) : out_(out), json_(json) {}
  void write(const ProgressEvent& event);

 private:
  std::ostream& out_;
  bool json_;
};

// A human-readable line for an event ("  64/1200 images  11.5/s  ETA 1m39s  loss_itc 3.200").
std::string to_human_line(const ProgressEvent& event);

// Tracks rate and ETA for `total` units from a start time (milliseconds from a Clock).
class RateMeter {
 public:
  RateMeter(int64_t total, int64_t start_ms) : total_(total), start_ms_(start_ms) {}
  // Fills done, total, rate and eta_s of `event` for `done` units at `now_ms`.
  void fill(ProgressEvent& event, int64_t done, int64_t now_ms) const;

 private:
  int64_t total_;
  int64_t start_ms_;
};

}  // namespace capfilt::core
