#pragma once
// Exports the curated set of a project in the layouts training code reads.
//
// Which captions go out is chosen explicitly (ExportSelection) and written down with the export:
// every export leaves a manifest "<output>.capfilt.json" (for WebDataset "<folder>/capfilt.json")
// naming the selection, the counts and the project; COCO exports also carry it in "info".
//
// Output files are written whole or not at all (temporary file renamed into place). Threading:
// runs on the calling thread; progress/cancelled are called between batches of pairs.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/dataset_record.h"
#include "db/project.h"
#include "db/status.h"

namespace capfilt::core {

enum class ExportFormat { kBlipJson, kCoco, kCsv, kWebDataset };
const char* export_format_name(ExportFormat format);  // "blip", "coco", "csv", "webdataset"
Result<ExportFormat> parse_export_format(const std::string& name);

// Which captions an export contains. Defaults: the curated set CapFilt trains on.
struct ExportSelection {
  bool kept_web = true;        // web captions whose current decision is keep
  bool kept_synthetic = true;  // synthetic captions whose current decision is keep
  bool human = true;           // human captions, unless dropped (they are trusted by default)
  // Also undecided web and synthetic captions (an export before any filtering).
  bool undecided = false;
  std::string split;  // only this split; empty = all

  // "kept web + kept synthetic + human": the words written into manifests and reports.
  std::string describe() const;
  bool selects(const db::PairRow& pair) const;
};

struct ExportOptions {
  ExportFormat format = ExportFormat::kBlipJson;
  ExportSelection selection;
  // Where the project's images are (the dataset root they were imported against). Needed by
  // WebDataset (the image bytes go into the shards) and by absolute_paths.
  std::filesystem::path dataset_root;
  bool absolute_paths = false;  // write dataset_root/path instead of the stored relative path
  int shard_size = 1000;        // WebDataset: samples (images) per shard
  std::function<void(std::int64_t pairs_done)> progress;  // may be empty
  std::function<bool()> cancelled;                        // may be empty
};

struct ExportReport {
  std::int64_t pairs = 0;                    // captions written
  std::int64_t images = 0;                   // distinct images written
  std::string contents;                      // ExportSelection::describe()
  std::vector<std::filesystem::path> files;  // written, manifest included
  std::vector<SkippedEntry> skipped;         // pairs whose image could not be read (WebDataset)
};

// Writes the selected pairs of `project` to `output`: a file for BLIP JSON, COCO and CSV, a
// folder of shards "shard-000000.tar", ... for WebDataset (one sample per image: key.<ext> with
// the image bytes, key.txt with its first caption, key.json with all of them, source and split).
Result<ExportReport> export_dataset(db::Project& project, const std::filesystem::path& output,
                                    const ExportOptions& options);

}  // namespace capfilt::core
