#include "core/batch_loader.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>

#include "core/random_util.h"

namespace capfilt::core {

namespace {

BatchLoader::PathOf from_list(std::vector<std::string> paths) {
  auto list = std::make_shared<const std::vector<std::string>>(std::move(paths));
  return [list](std::size_t index) { return (*list)[index]; };
}

}  // namespace

// size_ is declared before path_of_, so it is read before the list moves.
BatchLoader::BatchLoader(std::vector<std::string> paths, LoaderOptions options)
    : size_(paths.size()), path_of_(from_list(std::move(paths))), options_(std::move(options)),
      order_(size_) {
  start();
}

BatchLoader::BatchLoader(std::size_t count, PathOf path_of, LoaderOptions options)
    : size_(count), path_of_(std::move(path_of)), options_(std::move(options)), order_(size_) {
  start();
}

void BatchLoader::start() {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (options_.shuffle) {
    std::mt19937 rng(derive_seed(options_.seed, options_.epoch));
    portable_shuffle(order_, rng);
  }
  next_dispatch_ = delivered_ = std::min(options_.start, order_.size());
  if (options_.shard_count > 1) {
    const std::size_t block = std::max<std::size_t>(1, options_.shard_block);
    std::vector<std::size_t> mine;
    for (std::size_t p = delivered_; p < order_.size(); ++p) {
      if (((p - delivered_) / block) % options_.shard_count == options_.shard_index) {
        mine.push_back(order_[p]);
      }
    }
    order_ = std::move(mine);
    next_dispatch_ = delivered_ = 0;
  }
  int workers = std::max(1, options_.workers);
  workers_.reserve(static_cast<std::size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

BatchLoader::~BatchLoader() {
  cancel();
  for (std::thread& t : workers_) t.join();
}

void BatchLoader::cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  work_cv_.notify_all();
  ready_cv_.notify_all();
}

void BatchLoader::worker_loop() {
  const std::size_t window =
      static_cast<std::size_t>(std::max({options_.prefetch, options_.workers, 1}));
  while (true) {
    std::size_t position;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] {
        return cancelled_ || next_dispatch_ >= order_.size() || next_dispatch_ < delivered_ + window;
      });
      if (cancelled_ || next_dispatch_ >= order_.size()) return;
      position = next_dispatch_++;
    }
    LoadedSample sample = load(position);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (options_.delivery == Delivery::kInOrder) {
        finished_.emplace(position, std::move(sample));
      } else {
        ready_.push_back(std::move(sample));
      }
    }
    ready_cv_.notify_all();
  }
}

LoadedSample BatchLoader::load(std::size_t position) const {
  LoadedSample s;
  s.order = position;
  s.index = order_[position];
  s.path = path_of_(s.index);
  Result<RgbImage> image =
      options_.decode ? options_.decode(s.path) : decode_image_file(s.path, options_.limits);
  if (!image) {
    s.status = image.status();
    return s;
  }
  if (image->empty()) {
    s.status = Status::corrupt(s.path + ": decoded to an empty image");
    return s;
  }
  RgbImage sized;
  if (options_.augment) {
    // Seeded per file and epoch, so a crop does not depend on which worker took the file.
    std::mt19937 rng(derive_seed(derive_seed(options_.seed, options_.epoch), s.index));
    AugmentOptions aug = options_.augment_options;
    aug.size = options_.image_size;
    sized = augment_for_training(image.value(), aug, rng);
  } else {
    sized = resize_bicubic(image.value(), options_.image_size, options_.image_size);
  }
  s.pixels = to_normalized_chw(sized, options_.normalization);
  return s;
}

bool BatchLoader::sample_ready() const {
  return options_.delivery == Delivery::kInOrder ? finished_.count(delivered_) > 0 : !ready_.empty();
}

std::optional<LoadedSample> BatchLoader::next() {
  std::optional<LoadedSample> out;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return cancelled_ || delivered_ >= order_.size() || sample_ready(); });
    if (cancelled_ || delivered_ >= order_.size()) return std::nullopt;
    if (options_.delivery == Delivery::kInOrder) {
      auto it = finished_.find(delivered_);
      out = std::move(it->second);
      finished_.erase(it);
    } else {
      out = std::move(ready_.front());
      ready_.pop_front();
    }
    ++delivered_;
  }
  work_cv_.notify_all();
  return out;
}

std::vector<LoadedSample> BatchLoader::next_batch(std::size_t n, std::vector<LoadedSample>* failed) {
  std::vector<LoadedSample> batch;
  while (batch.size() < n) {
    std::optional<LoadedSample> s = next();
    if (!s) break;
    if (s->status.is_ok()) {
      batch.push_back(std::move(*s));
    } else if (failed) {
      failed->push_back(std::move(*s));
    }
  }
  return batch;
}

}  // namespace capfilt::core
