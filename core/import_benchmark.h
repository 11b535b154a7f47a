#pragma once
// The import-rate benchmark behind `capfilt bench-import`: generates a dataset of N pairs over
// N / per_image image files (hard links to a few real images, so every path is a distinct file the
// importer must validate but no bytes are copied) and times import_dataset into a fresh project.

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/importer.h"
#include "db/status.h"

namespace capfilt::core {

struct ImportBenchmarkOptions {
  std::filesystem::path images;   // folder of real .jpg/.png images to reference
  std::filesystem::path workdir;  // emptied and filled with the dataset and the project
  std::int64_t pairs = 100000;
  int per_image = 5;  // captions per image file
  bool csv = true;    // CSV (image,caption) or BLIP annotation JSON
  ImageCheck image_check = ImageCheck::kHeader;
  int batch_size = 500;
};

struct ImportBenchmarkResult {
  std::int64_t image_files = 0;
  std::int64_t distinct_images = 0;  // real images behind the links
  std::int64_t captions_added = 0;
  std::int64_t skipped = 0;
  double seconds = 0;      // wall time of the import alone (generation not counted)
  double cpu_seconds = 0;  // CPU time of the process during the import (user + system):
                           // the figure to compare on a shared, loaded machine
  double pairs_per_second() const { return seconds > 0 ? captions_added / seconds : 0; }
  double pairs_per_cpu_second() const { return cpu_seconds > 0 ? captions_added / cpu_seconds : 0; }
  std::string describe() const;  // one line for the closing note
};

Result<ImportBenchmarkResult> run_import_benchmark(const ImportBenchmarkOptions& options);

}  // namespace capfilt::core
