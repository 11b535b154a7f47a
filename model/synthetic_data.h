#pragma once
// A tiny in-memory image-caption dataset of coloured shapes drawn with tensor operations, for tests,
// the `capfilt demo` command and benchmarks: no files, no decoder, deterministic for a seed.
// Each image shows one shape of one colour on a plain background, and its caption says so
// ("a red circle on a white background"). Model-internal header (includes Torch).

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace capfilt::model {

// Image-caption pairs held in memory (the synthetic set, or a small set for a demo).
struct ImageTextPairs {
  torch::Tensor pixels;               // [N, 3, S, S] float, normalised with BLIP's mean and std
  std::vector<std::string> captions;  // N captions, one per image
  torch::Tensor image_ids;            // [N] int64, one id per distinct image
};

// `count` distinct (colour, shape, background) combinations at `image_size` pixels, in an order
// fixed by `seed`; the shape's position and size vary a little with the seed. Throws ModelError when
// count exceeds the number of combinations (96) or the image is smaller than 16 pixels.
ImageTextPairs make_shapes_dataset(int64_t count, int64_t image_size, uint64_t seed = 0);

// Pixels in [0, 1] ([3, S, S]) -> BLIP's normalisation (CLIP mean/std), and back.
torch::Tensor normalize_pixels(const torch::Tensor& unit_pixels);
torch::Tensor denormalize_pixels(const torch::Tensor& pixels);

}  // namespace capfilt::model
