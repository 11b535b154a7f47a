#pragma once
// Decodes and preprocesses images on worker threads, ahead of the model that consumes them.
//
// Delivery: Delivery::kAsReady (the default) hands out samples in the order they finish, so one slow
// file (a network share, a huge TIFF) never stalls the consumer while other samples are ready; the
// slow one arrives when it is done. Delivery::kInOrder hands them out exactly in the (seeded,
// shuffled) order, which makes a run bit-reproducible; a slow file then holds back only its own
// position while the workers keep decoding up to `prefetch` samples past it.
// In both modes the set of samples and each sample's pixels (its crop and flip too) depend only on
// the seed, the epoch and the file, never on thread timing.
//
// A file that fails to decode is delivered as a sample with a non-ok status naming it; it is not
// fatal. Memory is bounded: at most `prefetch` samples are decoded or in flight ahead of the consumer.
//
// Threads: one consumer calls next()/next_batch(); cancel() may be called from any thread. The
// destructor cancels and joins the workers (each finishes the file in hand).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/augment.h"
#include "core/image_io.h"
#include "core/preprocess.h"

namespace capfilt::core {

enum class Delivery { kAsReady, kInOrder };

struct LoaderOptions {
  int image_size = 384;
  int workers = 2;
  int prefetch = 16;         // samples decoded or decoding ahead of the consumer (>= workers)
  bool shuffle = true;
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;   // a new order and new crops per epoch, reproducibly
  std::size_t start = 0;     // first position of the order to deliver (a resumed epoch)
  // Data-parallel sharding (a distributed sampler): from `start` on, the order is cut into blocks
  // of shard_block samples dealt round-robin to shard_count ranks; this loader delivers the blocks
  // of rank shard_index only. With shard_block = the per-rank batch, global batch k of the epoch
  // is every rank's k-th batch, in rank order. shard_count 1: no sharding.
  std::size_t shard_block = 1;
  std::size_t shard_index = 0;
  std::size_t shard_count = 1;
  bool augment = false;      // random resized crop + flip (training); else a plain resize
  AugmentOptions augment_options;  // its size is replaced by image_size
  Delivery delivery = Delivery::kAsReady;
  DecodeLimits limits;
  Normalization normalization;
  // Replaces decode_image_file (tests inject slow or failing files). Called from worker threads.
  std::function<Result<RgbImage>(const std::string& path)> decode;
};

struct LoadedSample {
  std::size_t index = 0;     // position in the list given to the loader
  std::size_t order = 0;     // position in the shuffled order (this shard's, when sharded)
  std::string path;
  Status status;             // not ok: pixels is empty
  std::vector<float> pixels; // 3 × image_size × image_size, normalised, CHW
};

class BatchLoader {
 public:
  // The path of sample `index`; called from the worker threads, so it must be safe to call
  // concurrently (a read-only lookup).
  using PathOf = std::function<std::string(std::size_t index)>;

  // Starts the workers at once.
  BatchLoader(std::vector<std::string> paths, LoaderOptions options);
  // `count` samples whose paths path_of gives, for callers that keep the paths packed elsewhere.
  BatchLoader(std::size_t count, PathOf path_of, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Blocks until a sample is ready; nullopt once every sample was delivered or after cancel().
  std::optional<LoadedSample> next();
  // Up to n decoded samples (fewer at the end). Failed files are skipped and appended to *failed.
  std::vector<LoadedSample> next_batch(std::size_t n, std::vector<LoadedSample>* failed = nullptr);
  // Stops the workers; any thread. next() returns nullopt afterwards.
  void cancel();

  std::size_t size() const { return size_; }
  // The shuffled order: order()[k] is the index of the k-th sample dispatched.
  const std::vector<std::size_t>& order() const { return order_; }

 private:
  void start();
  void worker_loop();
  LoadedSample load(std::size_t position) const;
  bool sample_ready() const;  // requires mutex_

  const std::size_t size_;
  const PathOf path_of_;
  const LoaderOptions options_;
  std::vector<std::size_t> order_;

  std::mutex mutex_;
  std::condition_variable work_cv_;   // a worker may dispatch (window opened, or cancel)
  std::condition_variable ready_cv_;  // a sample is ready (or cancel)
  std::size_t next_dispatch_ = 0;     // guarded by mutex_
  std::size_t delivered_ = 0;         // guarded by mutex_
  bool cancelled_ = false;            // guarded by mutex_
  std::deque<LoadedSample> ready_;                 // kAsReady; guarded by mutex_
  std::map<std::size_t, LoadedSample> finished_;   // kInOrder, by position; guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace capfilt::core
