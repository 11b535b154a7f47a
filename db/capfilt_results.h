#pragma once
// A CapFilt results file: what a CapFilt run over a copy of a project computed (typically one
// shard, on a machine that does not share the project file) — synthetic captions, scores and the
// decisions they propose — with the identity of the project and of the models it was made with.
// Project::merge_capfilt_results folds it into the project later.
//
// An SQLite file of its own (application_id 'CFRs', rollback journal: once a transaction commits,
// the file alone holds it). Every batch is one transaction, so a run killed at any point leaves
// whole batches, and the same command run again continues it. The run marks the file finished in
// its last transaction, with its counts; open_for_merge refuses an unfinished file, one that fails
// SQLite's integrity check or whose counts disagree with its rows (truncated, overwritten).
//
// Images and captions are named by path and text as well as by id, since a copy of a project may
// have other ids than the project by the time the file is merged.
//
// Threading: one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "db/records.h"
#include "db/status.h"

namespace capfilt::db {

namespace internal {
class Connection;
}

struct CapfiltResultsHeader {
  std::string project_uuid;  // Project::uuid() of the project the run read
  std::string project_path;  // where it was read (for messages)
  // The models: id as the project read registers them (0: not registered there; the merge
  // registers them then), checkpoint_path, name, task, config_json. Identity is id, checkpoint
  // path and configuration (config_fingerprint).
  ModelRecord captioner;
  ModelRecord filter;
  double threshold = 0.5;  // ITM below it proposes drop
  int shard_index = 0;
  int shard_count = 1;
  std::string run_json = "{}";  // the run's other options (caption method, seed, split, ...)
};

// Whether two headers describe one run (what a resumed run must match).
bool same_run(const CapfiltResultsHeader& a, const CapfiltResultsHeader& b);

// A short name for a model configuration: 64-bit FNV-1a of its JSON text, in hex.
std::string config_fingerprint(const std::string& config_json);

// What a merge wrote, and the project's ids of the models.
struct CapfiltMerge {
  int64_t images = 0;  // images of the file
  CapfiltBatchCounts counts;
  int64_t captioner_id = 0;
  int64_t filter_id = 0;
  int64_t models_registered = 0;  // models the project did not know yet
};

class CapfiltResultsFile {
 public:
  // Creates the file at `path`, or reopens one to continue its run (marking it unfinished until
  // finish()). kInvalid when an existing file was made for another run (project, models,
  // threshold, shard, options); kCorrupt when it is not a results file.
  static Result<std::unique_ptr<CapfiltResultsFile>> open_for_run(
      const std::string& path, const CapfiltResultsHeader& header);
  // Opens a finished file to merge it, after SQLite's integrity check and a check of its counts.
  // kCorrupt naming the file when it is damaged or not a results file; kInvalid when its run did
  // not finish (killed or stopped: run the same command again to finish it).
  static Result<std::unique_ptr<CapfiltResultsFile>> open_for_merge(const std::string& path);
  ~CapfiltResultsFile();
  CapfiltResultsFile(const CapfiltResultsFile&) = delete;
  CapfiltResultsFile& operator=(const CapfiltResultsFile&) = delete;

  const std::string& path() const { return path_; }
  const CapfiltResultsHeader& header() const { return header_; }
  bool finished() const { return finished_; }
  int64_t images_failed() const { return images_failed_; }  // as finish() recorded it

  // Ids (in the project the run read) of the images the file holds.
  Result<std::vector<int64_t>> image_ids();
  // Appends one batch in one transaction; its images must carry their paths and its scores of
  // existing captions their source and text. An image already in the file is refused.
  Status append(const CapfiltBatch& batch);
  // Marks the run finished, recording how many images could not be read and the file's counts.
  Status finish(int64_t images_failed);
  // Every image, in the order written, with ids as in the project the run read.
  Status for_each_image(const std::function<Status(const CapfiltImageResult&)>& visit);

 private:
  CapfiltResultsFile(std::string path, std::unique_ptr<internal::Connection> connection);
  static Result<std::unique_ptr<CapfiltResultsFile>> open_checked(const std::string& path);
  Status read_header();
  Status write_header();

  std::string path_;
  std::unique_ptr<internal::Connection> connection_;
  CapfiltResultsHeader header_;
  bool finished_ = false;
  int64_t images_failed_ = 0;
};

}  // namespace capfilt::db
