#pragma once
// Throughput of the three things CapFilt does with a model, for `capfilt bench`: pre-training steps,
// ITM scoring of (image, text) pairs and image embeddings. Random weights and inputs (speed does not
// depend on them); texts are [CLS] + 28 tokens + [SEP], BLIP's pre-training length of 30.
// Torch-free so app/ can include it cheaply.

#include <cstdint>
#include <string>

namespace capfilt::model {

struct BenchmarkOptions {
  std::string preset = "tiny";
  std::string device = "cpu";   // as parse_device() reads it
  int64_t train_batch = 8;      // pairs per training step
  int64_t infer_batch = 16;     // pairs per ITM call and images per embedding call
  int train_steps = 5;          // timed steps, after one untimed warm-up step
  int infer_repeats = 5;        // timed calls, after one untimed warm-up call
};

struct BenchmarkResult {
  std::string preset;
  int64_t parameters = 0;  // of the trained model (momentum encoders not counted)
  int64_t train_batch = 0;
  double train_steps_per_second = 0.0;
  double train_pairs_per_second = 0.0;
  int64_t infer_batch = 0;
  double itm_pairs_per_second = 0.0;      // image encoding + ITM head, under inference mode
  double image_embeddings_per_second = 0.0;  // image encoding + projection, under inference mode
};

// Runs the timings. Throws ModelError for an unknown preset or device.
BenchmarkResult run_benchmark(const BenchmarkOptions& options);

}  // namespace capfilt::model
