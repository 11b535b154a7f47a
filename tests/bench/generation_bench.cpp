// Model-only generation benchmark (no Qt, OpenCV or SQLite): captions per second of greedy and
// beam-3 decoding with the KV cache, on random weights, captions forced to full length. The same
// measurement as `capfilt bench-generate`, for builds with -DCAPFILT_MODEL_ONLY=ON (e.g. the
// LibTorch 2.x lane, installer/libtorch2-lane.sh), so LibTorch releases compare on one machine.
//   generation_bench [repeats] [threads]   (threads: default every hardware thread, as capfilt)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <torch/torch.h>

#include "model/blip.h"
#include "model/config.h"
#include "model/generation.h"
#include "model/runtime.h"

namespace {

using namespace capfilt::model;

BlipConfig small_config() {  // bench-generate's "small": width 256, 4 + 4 layers, 224 px
  BlipConfig c = preset("base", 224);
  c.name = "small";
  c.vision.hidden = c.text.hidden = 256;
  c.vision.depth = c.text.layers = 4;
  c.vision.heads = c.text.heads = 4;
  c.vision.intermediate = c.text.intermediate = 1024;
  return c;
}

double seconds_per_call(const BlipImpl& m, const torch::Tensor& pixels, const GenerationOptions& o, int repeats) {
  generate_captions(m, pixels, o);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) generate_captions(m, pixels, o);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 2;
  const int threads = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
  if (threads > 0) torch::set_num_threads(threads);
  const RuntimeInfo info = runtime_info();
  std::printf("# LibTorch %s (fused attention %s), BLAS %s, %d threads; random weights; max length 30, "
              "every caption full length\n",
              info.torch_version.c_str(), info.fused_attention ? "yes" : "no", info.blas_name.c_str(),
              info.intra_op_threads);
  torch::manual_seed(0);
  for (const BlipConfig& config : {small_config(), preset("base", 224)}) {
    Blip m(config);
    m->eval();
    std::printf("## %s (%lld px, width %lld, %lld+%lld layers)\n%-7s %5s %10s %11s\n", config.name.c_str(),
                static_cast<long long>(config.vision.image_size), static_cast<long long>(config.text.hidden),
                static_cast<long long>(config.vision.depth), static_cast<long long>(config.text.layers), "method",
                "batch", "s/call", "captions/s");
    for (int batch : {1, 8}) {
      const torch::Tensor pixels = torch::randn({batch, 3, config.vision.image_size, config.vision.image_size});
      for (const DecodingMethod method : {DecodingMethod::kGreedy, DecodingMethod::kBeamSearch}) {
        GenerationOptions o;
        o.method = method;
        o.num_beams = 3;
        o.max_length = o.min_length = 30;
        const double s = seconds_per_call(*m, pixels, o, repeats);
        std::printf("%-7s %5d %10.3f %11.2f\n", method == DecodingMethod::kGreedy ? "greedy" : "beam3", batch, s,
                    batch / s);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
