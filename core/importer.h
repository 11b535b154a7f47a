#pragma once
// Imports a dataset (any layout of core/dataset_readers.h) into a project.
//
// Guarantees:
// - Idempotent: re-importing the same dataset adds nothing twice (the store is unique by image
//   path and by (image, caption text, source)).
// - One transaction per batch of images: a killed import leaves every committed batch whole and
//   nothing of the batch in flight; running the same import again completes it.
// - Bad input is imported as far as it is sound. Each entry left out — an unparsable line, a path
//   escaping the dataset root, a caption that is not UTF-8, a duplicate, a missing, empty,
//   truncated, non-image or enormous image file — is listed in ImportReport::skipped with its
//   file and line or record, and recorded with the import run in the project.
//
// Threading: runs on the calling thread; `progress` and `cancelled` are called on it between
// batches. The Project must not be used by another thread meanwhile.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/dataset_readers.h"
#include "core/image_io.h"
#include "db/project.h"
#include "db/status.h"

namespace capfilt::core {

// How much of each image file is checked before its pairs are stored.
enum class ImageCheck {
  kNone,    // the file exists and is not empty; nothing is read (fastest, no content hash)
  kHeader,  // read whole: content hash, format and size from the header, pixel limit, and a
            // check that the file ends as its format requires (catches truncated downloads)
  kDecode,  // kHeader plus a full decode (slowest; catches corrupt pixel data)
};
const char* image_check_name(ImageCheck check);
bool parse_image_check(const std::string& name, ImageCheck* out);

struct ImportProgress {
  std::int64_t records_done = 0;  // records of the dataset handled so far (stored or skipped)
  std::int64_t records_total = 0;
  db::InsertCounts counts;  // what the store did so far
  std::int64_t skipped = 0;
};

struct ImportOptions {
  DatasetFormat format = DatasetFormat::kAuto;
  // Image paths in the dataset are relative to this folder, and stored relative to it. Empty: the
  // folder of the annotation file (a caption folder: the folder itself). For WebDataset it is
  // where images are extracted to; empty means "<folder of the shards>/wds-images".
  std::filesystem::path dataset_root;
  db::CaptionSource source = db::CaptionSource::kWeb;
  std::string split;  // used for records whose dataset names no split
  ImageCheck image_check = ImageCheck::kHeader;
  DecodeLimits limits;
  int batch_size = 500;                                 // images per transaction
  std::function<void(const ImportProgress&)> progress;  // may be empty
  std::function<bool()> cancelled;                      // may be empty; true stops between batches
};

struct ImportReport {
  std::int64_t import_id = 0;  // the import run recorded in the project
  std::string status;          // "completed", "cancelled" or "failed"
  std::int64_t records_read = 0;
  db::InsertCounts counts;
  std::vector<SkippedEntry> skipped;
};

// The dataset root used when ImportOptions::dataset_root is empty.
std::filesystem::path default_dataset_root(const std::filesystem::path& source,
                                           DatasetFormat format);

// Reads `source` and stores its sound pairs in `project`. Returns the report also when entries were
// skipped or the run was cancelled (status "cancelled"); an error Status only when nothing could be
// read (missing or unparsable file: its message names file, line and column) or the store failed.
// Either way the run is recorded with project.finish_import.
Result<ImportReport> import_dataset(db::Project& project, const std::filesystem::path& source,
                                    const ImportOptions& options);

// One line per skipped entry: "<where>: <reason>".
std::string format_skipped(const std::vector<SkippedEntry>& skipped);

}  // namespace capfilt::core
