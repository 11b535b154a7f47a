// `capfilt import`, `capfilt export` and `capfilt bench-import`: datasets in and out of a project.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/cli/commands.h"
#include "core/exporter.h"
#include "core/import_benchmark.h"
#include "core/importer.h"
#include "db/project.h"

namespace capfilt::app {

namespace fs = std::filesystem;

namespace {

// Ctrl-C stops an import or export between batches; what was committed stays.
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted = true;
}

std::unique_ptr<db::Project> open_project_or_throw(const std::string& path) {
  Result<std::unique_ptr<db::Project>> project = db::Project::open(path);
  if (!project) throw std::runtime_error(project.status().message());
  return std::move(project).value();
}

void print_skipped(const std::vector<core::SkippedEntry>& skipped, std::size_t limit) {
  const std::string text = core::format_skipped(skipped);
  std::istringstream lines(text);
  std::string line;
  for (std::size_t n = 0; n < limit && std::getline(lines, line); ++n)
    std::cerr << "  skipped: " << line << "\n";
  if (skipped.size() > limit) {
    std::cerr << "  ... and " << skipped.size() - limit
              << " more (all are in the project's import report)\n";
  }
}

struct ImportArgs {
  std::string project, dataset, format = "auto", root, source = "web", split, check = "header";
  int batch = 500;
  std::size_t show_skipped = 20;
};

core::ImportOptions to_import_options(const ImportArgs& a) {
  core::ImportOptions options;
  Result<core::DatasetFormat> format = core::parse_format_name(a.format);
  if (!format) throw std::runtime_error(format.status().message());
  options.format = format.value();
  options.dataset_root = a.root;
  if (!db::parse(a.source, &options.source))
    throw std::runtime_error("--source: web, synthetic or human");
  if (!core::parse_image_check(a.check, &options.image_check)) {
    throw std::runtime_error("--check: none, header or decode");
  }
  options.split = a.split;
  options.batch_size = a.batch;
  return options;
}

int run_import(const ImportArgs& a) {
  auto project = open_project_or_throw(a.project);
  core::ImportOptions options = to_import_options(a);
  options.progress = [](const core::ImportProgress& p) {
    std::fprintf(stderr, "\r%lld/%lld records, %lld captions added",
                 static_cast<long long>(p.records_done), static_cast<long long>(p.records_total),
                 static_cast<long long>(p.counts.captions_added));
  };
  options.cancelled = [] { return g_interrupted.load(); };
  std::signal(SIGINT, on_interrupt);
  Result<core::ImportReport> report = core::import_dataset(*project, a.dataset, options);
  std::signal(SIGINT, SIG_DFL);
  std::cerr << "\n";
  if (!report) {
    std::cerr << "capfilt import: " << report.status().message() << "\n";
    return 1;
  }
  const core::ImportReport& r = report.value();
  std::cout << "import #" << r.import_id << " " << r.status << ": " << r.records_read
            << " records read, " << r.counts.images_added << " images and "
            << r.counts.captions_added << " captions added, " << r.counts.captions_skipped
            << " captions already present, " << r.skipped.size() << " entries skipped\n";
  print_skipped(r.skipped, a.show_skipped);
  return r.status == "completed" ? 0 : 130;
}

struct ExportArgs {
  std::string project, output, format = "blip", captions = "kept-web,kept-synthetic,human", split,
                               root;
  bool undecided = false, absolute = false;
  int shard_size = 1000;
};

int run_export(const ExportArgs& a) {
  auto project = open_project_or_throw(a.project);
  core::ExportOptions options;
  Result<core::ExportFormat> format = core::parse_export_format(a.format);
  if (!format) throw std::runtime_error(format.status().message());
  options.format = format.value();
  core::ExportSelection& s = options.selection;
  s.kept_web = s.kept_synthetic = s.human = false;
  std::istringstream parts(a.captions);
  for (std::string part; std::getline(parts, part, ',');) {
    if (part == "kept-web")
      s.kept_web = true;
    else if (part == "kept-synthetic")
      s.kept_synthetic = true;
    else if (part == "human")
      s.human = true;
    else
      throw std::runtime_error("--captions: a list of kept-web, kept-synthetic, human");
  }
  s.undecided = a.undecided;
  s.split = a.split;
  options.dataset_root = a.root;
  options.absolute_paths = a.absolute;
  options.shard_size = a.shard_size;
  options.cancelled = [] { return g_interrupted.load(); };
  std::signal(SIGINT, on_interrupt);
  Result<core::ExportReport> report = core::export_dataset(*project, a.output, options);
  std::signal(SIGINT, SIG_DFL);
  if (!report) {
    std::cerr << "capfilt export: " << report.status().message() << "\n";
    return 1;
  }
  std::cout << "exported " << report->pairs << " pairs (" << report->images
            << " images) containing " << report->contents << " to " << a.output << "\n";
  print_skipped(report->skipped, 20);
  return 0;
}

struct BenchArgs {
  std::string images, workdir, format = "csv", check = "header";
  long long pairs = 100000;
  int per_image = 5, batch = 500;
};

int run_bench_import(const BenchArgs& a) {
  core::ImportBenchmarkOptions o;
  o.images = a.images;
  o.workdir =
      a.workdir.empty() ? fs::temp_directory_path() / "capfilt-bench-import" : fs::path(a.workdir);
  o.pairs = a.pairs;
  o.per_image = a.per_image;
  o.csv = a.format == "csv";
  o.batch_size = a.batch;
  if (!core::parse_image_check(a.check, &o.image_check))
    throw std::runtime_error("--check: none, header or decode");
  Result<core::ImportBenchmarkResult> r = core::run_import_benchmark(o);
  if (!r) throw std::runtime_error(r.status().message());
  std::printf("bench-import (%s, image check %s, batch %d images): %s\n", o.csv ? "csv" : "blip",
              a.check.c_str(), a.batch, r->describe().c_str());
  return 0;
}

}  // namespace

void add_data_commands(CLI::App& app, const GlobalOptions& /*options*/) {
  auto import_args = std::make_shared<ImportArgs>();
  auto* imp = app.add_subcommand("import", "Import a dataset into a project (adds nothing twice)");
  imp->add_option("project", import_args->project, "project file (created when missing)")
      ->required();
  imp->add_option("dataset", import_args->dataset,
                  "annotation file, caption folder, or WebDataset shard / folder of shards")
      ->required();
  imp->add_option("--format", import_args->format,
                  "auto, coco, karpathy, blip, csv, jsonl, folder, webdataset")
      ->capture_default_str();
  imp->add_option("--root", import_args->root,
                  "dataset root the image paths are relative to (default: the annotation file's "
                  "folder; WebDataset: where images are extracted, default <shards>/wds-images)");
  imp->add_option("--source", import_args->source, "web, synthetic or human")
      ->capture_default_str();
  imp->add_option("--split", import_args->split, "split for records whose dataset names none");
  imp->add_option("--check", import_args->check,
                  "image check: none (exists, not empty), header (+ format, size, pixel limit, "
                  "truncation, content hash) or decode (+ full decode)")
      ->capture_default_str();
  imp->add_option("--batch", import_args->batch, "images per transaction")->capture_default_str();
  imp->add_option("--show-skipped", import_args->show_skipped, "skipped entries to print")
      ->capture_default_str();
  imp->callback([import_args] {
    const int rc = run_import(*import_args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto export_args = std::make_shared<ExportArgs>();
  auto* exp = app.add_subcommand("export", "Export the curated pairs of a project");
  exp->add_option("project", export_args->project, "project file")->required();
  exp->add_option("output", export_args->output, "output file (a folder of shards for webdataset)")
      ->required();
  exp->add_option("--format", export_args->format, "blip, coco, csv or webdataset")
      ->capture_default_str();
  exp->add_option("--captions", export_args->captions,
                  "which captions: a list of kept-web, kept-synthetic, human")
      ->capture_default_str();
  exp->add_flag("--undecided", export_args->undecided,
                "also web/synthetic captions not decided yet");
  exp->add_option("--split", export_args->split, "only this split");
  exp->add_option("--root", export_args->root, "dataset root of the images (needed by webdataset)");
  exp->add_flag("--absolute", export_args->absolute, "write absolute image paths (needs --root)");
  exp->add_option("--shard-size", export_args->shard_size, "webdataset: images per shard")
      ->capture_default_str();
  exp->callback([export_args] {
    const int rc = run_export(*export_args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto bench_args = std::make_shared<BenchArgs>();
  auto* bench = app.add_subcommand("bench-import",
                                   "Measure the import rate (pairs/s) on a generated dataset");
  bench->add_option("--images", bench_args->images, "folder of real images to reference")
      ->required();
  bench->add_option("--pairs", bench_args->pairs, "pairs to generate")->capture_default_str();
  bench->add_option("--per-image", bench_args->per_image, "captions per image")
      ->capture_default_str();
  bench->add_option("--format", bench_args->format, "csv or blip")->capture_default_str();
  bench->add_option("--check", bench_args->check, "image check: none, header or decode")
      ->capture_default_str();
  bench->add_option("--batch", bench_args->batch, "images per transaction")->capture_default_str();
  bench->add_option("--workdir", bench_args->workdir, "scratch folder (default: the temp folder)");
  bench->callback([bench_args] { run_bench_import(*bench_args); });
}

}  // namespace capfilt::app
