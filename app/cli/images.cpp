// `capfilt demo-data`, `preprocess`, `thumbnails`, `bench-images`: the image half of core/ from the
// command line.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/cli/commands.h"
#include "core/batch_loader.h"
#include "core/demo_data.h"
#include "core/image_io.h"
#include "core/preprocess.h"
#include "core/thumbnails.h"

namespace capfilt::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}) {
    if (ext == e) return true;
  }
  return false;
}

// Files given, with folders expanded to the images directly inside them (sorted).
std::vector<std::string> collect_images(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in, ec)) {
        if (e.is_regular_file() && is_image_name(e.path())) found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(in);
    }
  }
  return out;
}

int fail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return 1;
}

void add_demo_data(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo-data", "Generate the synthetic shapes dataset (with noise ground truth)");
  struct Args {
    std::string out;
    core::DemoDataOptions options;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("out", args->out, "Output folder (must be empty or absent)")->required();
  cmd->add_option("--seed", args->options.seed, "Random seed; the same seed writes the same files");
  cmd->add_option("--count", args->options.count, "Number of images")->check(CLI::PositiveNumber);
  cmd->add_option("--noise", args->options.noise, "Fraction of web captions replaced by noise")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--size", args->options.image_size, "Image side in pixels")->check(CLI::Range(16, 1024));
  cmd->add_option("--human-fraction", args->options.human_fraction, "Share of training images in the clean subset")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--overwrite", args->options.overwrite, "Replace a non-empty output folder");
  cmd->callback([args] {
    args->options.progress = [](int done, int total) { std::fprintf(stderr, "\rimages %d/%d", done, total); };
    Result<core::DemoDataSummary> r = core::generate_demo_data(args->out, args->options);
    std::fprintf(stderr, "\n");
    if (!r) throw CLI::RuntimeError(fail(r.status()));
    const core::DemoDataSummary& s = r.value();
    std::printf("%s: %d images (train: %d human + %d web, %d val, %d test), %d of %d web captions noisy, "
                "%d VQA questions\nground truth: %s/ground-truth/ (keep it out of the project)\n",
                args->out.c_str(), s.images, s.human, s.web, s.val, s.test, s.noisy, s.web,
                s.vqa_questions, args->out.c_str());
  });
}

void add_preprocess(CLI::App& app) {
  auto* cmd = app.add_subcommand("preprocess", "Decode an image and preprocess it as BLIP does");
  struct Args {
    std::string image, out;
    int size = 384;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("image", args->image, "Image file")->required();
  cmd->add_option("--size", args->size, "Model input side")->check(CLI::Range(8, 4096));
  cmd->add_option("--out", args->out, "Write the normalised CHW float32 values (little-endian) here");
  cmd->callback([args] {
    Result<core::RgbImage> img = core::decode_image_file(args->image);
    if (!img) throw CLI::RuntimeError(fail(img.status()));
    std::vector<float> v = core::preprocess_for_blip(img.value(), args->size);
    std::printf("%s: %dx%d -> 3x%dx%d\n", args->image.c_str(), img->width, img->height, args->size, args->size);
    const std::size_t plane = static_cast<std::size_t>(args->size) * args->size;
    for (int c = 0; c < 3; ++c) {
      double sum = 0, lo = 1e9, hi = -1e9;
      for (std::size_t i = 0; i < plane; ++i) {
        float x = v[c * plane + i];
        sum += x;
        lo = std::min<double>(lo, x);
        hi = std::max<double>(hi, x);
      }
      std::printf("channel %c: mean %.4f min %.4f max %.4f\n", "RGB"[c], sum / plane, lo, hi);
    }
    if (!args->out.empty()) {
      std::ofstream out(args->out, std::ios::binary);
      out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
      if (!out) throw CLI::RuntimeError(fail(Status::io_error(args->out + ": cannot write")));
    }
  });
}

void add_thumbnails(CLI::App& app) {
  auto* cmd = app.add_subcommand("thumbnails", "Make (or find cached) thumbnails for images");
  struct Args {
    std::vector<std::string> inputs;
    std::string cache;
    int size = 256;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("inputs", args->inputs, "Image files or folders")->required();
  cmd->add_option("--cache", args->cache, "Thumbnail cache folder")->required();
  cmd->add_option("--size", args->size, "Longer side in pixels")->check(CLI::Range(8, 4096));
  cmd->callback([args] {
    core::ThumbnailCache cache(args->cache);
    int failed = 0;
    for (const std::string& path : collect_images(args->inputs)) {
      Result<std::string> t = cache.thumbnail_file(path, args->size);
      if (!t) {
        std::cerr << "skipped: " << t.status().message() << "\n";
        ++failed;
      }
    }
    core::ThumbnailCache::Stats s = cache.stats();
    std::printf("thumbnails: %lld made, %lld cached already, %d failed\n", static_cast<long long>(s.made),
                static_cast<long long>(s.hits), failed);
  });
}

// Images decoded + preprocessed per second, on one thread and through the batch loader.
void add_bench_images(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-images", "Measure image decoding + preprocessing throughput");
  struct Args {
    std::vector<std::string> inputs;
    std::vector<int> sizes{224, 384};
    int repeat = 3;
    int workers = 0;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("inputs", args->inputs, "Image files or folders")->required();
  cmd->add_option("--sizes", args->sizes, "Model input sides")->delimiter(',');
  cmd->add_option("--repeat", args->repeat, "Passes over the images")->check(CLI::PositiveNumber);
  cmd->add_option("--workers", args->workers, "Loader threads (0: all hardware threads)");
  cmd->callback([args] {
    std::vector<std::string> files = collect_images(args->inputs);
    if (files.empty()) throw CLI::RuntimeError(fail(Status::not_found("no images found")));
    std::vector<core::RgbImage> decoded;
    for (const std::string& f : files) {
      Result<core::RgbImage> img = core::decode_image_file(f);
      if (!img) throw CLI::RuntimeError(fail(img.status()));
      decoded.push_back(std::move(img.value()));
    }
    const int workers = args->workers > 0 ? args->workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::size_t n = files.size() * static_cast<std::size_t>(args->repeat);
    // Wall-clock rates, and for the one-thread runs also images per CPU-second (std::clock), which
    // stays meaningful on a machine shared with other jobs.
    struct Timer {
      Clock::time_point wall = Clock::now();
      std::clock_t cpu = std::clock();
    };
    auto rate = [n](const Timer& t) { return n / std::chrono::duration<double>(Clock::now() - t.wall).count(); };
    auto cpu_rate = [n](const Timer& t) { return n / (static_cast<double>(std::clock() - t.cpu) / CLOCKS_PER_SEC); };
    Timer t;
    for (int r = 0; r < args->repeat; ++r)
      for (const std::string& f : files) (void)core::decode_image_file(f);
    std::printf("%zu images (%d passes over %zu files)\n", n, args->repeat, files.size());
    std::printf("decode only, 1 thread:               %7.1f images/s (%7.1f per CPU-second)\n", rate(t), cpu_rate(t));
    for (int size : args->sizes) {
      t = Timer();
      for (int r = 0; r < args->repeat; ++r)
        for (const core::RgbImage& img : decoded) (void)core::preprocess_for_blip(img, size);
      std::printf("size %d: preprocess only, 1 thread:  %7.1f images/s (%7.1f per CPU-second)\n", size, rate(t), cpu_rate(t));
      t = Timer();
      for (int r = 0; r < args->repeat; ++r)
        for (const std::string& f : files) (void)core::preprocess_for_blip(core::decode_image_file(f).value(), size);
      std::printf("size %d: decode+preprocess, 1 thread: %7.1f images/s (%7.1f per CPU-second)\n", size, rate(t), cpu_rate(t));
      std::vector<std::string> list;
      for (int r = 0; r < args->repeat; ++r) list.insert(list.end(), files.begin(), files.end());
      core::LoaderOptions options;
      options.image_size = size;
      options.workers = workers;
      options.prefetch = 4 * workers;
      t = Timer();
      core::BatchLoader loader(list, options);
      std::size_t got = 0;
      while (auto s = loader.next()) got += s->status.is_ok();
      std::printf("size %d: decode+preprocess, loader, %d workers: %7.1f images/s (%7.1f per CPU-second, %zu ok)\n",
                  size, workers, rate(t), cpu_rate(t), got);
    }
  });
}

}  // namespace

void add_image_commands(CLI::App& app, const GlobalOptions& /*options*/) {
  add_demo_data(app);
  add_preprocess(app);
  add_thumbnails(app);
  add_bench_images(app);
}

}  // namespace capfilt::app
