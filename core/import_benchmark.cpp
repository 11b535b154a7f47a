#include "core/import_benchmark.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <system_error>
#include <vector>

#include "db/project.h"

namespace capfilt::core {

namespace fs = std::filesystem;

std::string ImportBenchmarkResult::describe() const {
  char line[320];
  std::snprintf(
      line, sizeof line,
      "%lld pairs over %lld image files (%lld distinct images): %.2f s wall = %.0f pairs/s; "
      "%.2f s CPU = %.0f pairs per CPU-second",
      static_cast<long long>(captions_added), static_cast<long long>(image_files),
      static_cast<long long>(distinct_images), seconds, pairs_per_second(), cpu_seconds,
      pairs_per_cpu_second());
  return line;
}

namespace {

Status write_dataset(const ImportBenchmarkOptions& o, const std::vector<fs::path>& sources,
                     std::int64_t image_files, const fs::path& dataset) {
  std::ofstream out(dataset);
  out << (o.csv ? "image,caption\n" : "[\n");
  for (std::int64_t p = 0; p < o.pairs; ++p) {
    const std::int64_t i = p / o.per_image;
    const std::string image =
        "img" + std::to_string(i) +
        sources[static_cast<std::size_t>(i) % sources.size()].extension().string();
    const std::string caption =
        "a photo, number " + std::to_string(p) + ", of image " + std::to_string(i);
    if (o.csv) {
      out << image << ",\"" << caption << "\"\n";
    } else {
      out << (p ? ",\n" : "") << R"({"image": ")" << image << R"(", "caption": ")" << caption
          << "\"}";
    }
  }
  out << (o.csv ? "" : "\n]\n");
  (void)image_files;
  return out ? Status::ok() : Status::io_error("cannot write " + dataset.string());
}

}  // namespace

Result<ImportBenchmarkResult> run_import_benchmark(const ImportBenchmarkOptions& o) {
  std::error_code ec;
  std::vector<fs::path> sources;
  for (const auto& e : fs::directory_iterator(o.images, ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      sources.push_back(e.path());
  }
  if (sources.empty()) return Status::not_found("no .jpg/.png images in " + o.images.string());
  std::sort(sources.begin(), sources.end());
  if (o.workdir.empty() || o.pairs <= 0 || o.per_image <= 0)
    return Status::invalid("bad benchmark options");
  fs::remove_all(o.workdir, ec);
  fs::create_directories(o.workdir / "images", ec);
  if (ec) return Status::io_error("cannot create " + o.workdir.string() + ": " + ec.message());

  ImportBenchmarkResult result;
  result.image_files = (o.pairs + o.per_image - 1) / o.per_image;
  result.distinct_images =
      static_cast<std::int64_t>(std::min<std::size_t>(sources.size(), result.image_files));
  for (std::int64_t i = 0; i < result.image_files; ++i) {
    const fs::path& src = sources[static_cast<std::size_t>(i) % sources.size()];
    const fs::path dst =
        o.workdir / "images" / ("img" + std::to_string(i) + src.extension().string());
    fs::create_hard_link(src, dst, ec);
    if (ec) fs::copy_file(fs::absolute(src), dst, ec);  // another file system: copy
    if (ec) return Status::io_error("cannot create " + dst.string() + ": " + ec.message());
  }
  const fs::path dataset = o.workdir / (o.csv ? "pairs.csv" : "pairs.json");
  if (Status s = write_dataset(o, sources, result.image_files, dataset); !s) return s;

  Result<std::unique_ptr<db::Project>> project =
      db::Project::open((o.workdir / "bench.capfilt").string());
  if (!project) return project.status();
  ImportOptions options;
  options.format = o.csv ? DatasetFormat::kCsv : DatasetFormat::kBlipJson;
  options.dataset_root = o.workdir / "images";
  options.image_check = o.image_check;
  options.batch_size = o.batch_size;
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  Result<ImportReport> report = import_dataset(*project.value(), dataset, options);
  result.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report) return report.status();
  result.captions_added = report->counts.captions_added;
  result.skipped = static_cast<std::int64_t>(report->skipped.size());
  return result;
}

}  // namespace capfilt::core
