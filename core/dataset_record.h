#pragma once
// The neutral form every dataset reader produces and every writer consumes: one image-text pair per
// record, plus where it came from so a curator can find it in the original file.

#include <string>
#include <vector>

namespace capfilt::core {

// One image-caption pair as read from a dataset file, before any check against the file system.
struct DatasetRecord {
  // The image path as written in the dataset, relative to the dataset root ('/' separators).
  // Readers do not check it; the importer normalises it and refuses paths that escape the root.
  std::string image;
  std::string caption;  // raw bytes from the file; the importer checks it is UTF-8
  std::string split;    // "train", "val", ... or empty when the dataset names none
  std::string where;    // "captions.json annotation #12", "train.csv line 7": for reports
};

// An entry left out of an import, and why. `where` names the file and line, column or record.
struct SkippedEntry {
  std::string where;
  std::string reason;
};

// What a reader found in one dataset: the sound records and the entries it had to leave out.
struct DatasetContents {
  std::vector<DatasetRecord> records;
  std::vector<SkippedEntry> skipped;
};

}  // namespace capfilt::core
