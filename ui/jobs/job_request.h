#pragma once
// A job the studio starts: the `capfilt` arguments a form built, plus what the studio must do
// around them. Saved as the job folder's launch.json, so a later studio can resume, re-run or
// reattach to it.

#include <QString>
#include <QStringList>

namespace capfilt::ui {

struct JobRequest {
  QString kind;           // "train", "capfilt", "eval", "import-weights": also the folder's prefix
  QString title;          // what the jobs list shows, e.g. "Fine-tune captioner · tiny · 300 steps"
  QStringList arguments;  // capfilt's arguments, without --json and --job-dir (the studio adds them)
  bool train = false;     // `capfilt train`: runs in the job folder (--job-dir) and can resume
  // The command keeps no job row of its own (eval, import-weights): the studio records one.
  bool studio_row = false;
  // import-weights: the checkpoint folder it writes, added to the project's models when done.
  QString output_model;
  bool json = true;  // the command prints the JSON-lines progress with --json (import-weights does not)
};

}  // namespace capfilt::ui
