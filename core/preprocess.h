#pragma once
// BLIP's image preprocessing, computed as the reference (Pillow + torchvision) computes it:
// bicubic resize (kernel a = -0.5, antialiased when shrinking, 8-bit rounding between the
// horizontal and vertical passes as Pillow does), scale to [0, 1], normalise per channel, CHW.
// Plain C++ (no Torch): the model side wraps the returned buffer in a tensor.

#include <array>
#include <vector>

#include "core/image_io.h"

namespace capfilt::core {

struct Normalization {
  std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};  // BLIP / CLIP statistics
  std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
};

// Resizes to width × height exactly (aspect ratio not kept, as BLIP's transforms.Resize((s, s)))
// with Pillow's bicubic resampling. Thread-safe; pure.
RgbImage resize_bicubic(const RgbImage& image, int width, int height);

// Square BLIP input: resize to size × size, /255, normalise, channels first.
// Returns 3 * size * size floats laid out [c][y][x].
std::vector<float> preprocess_for_blip(const RgbImage& image, int size,
                                       const Normalization& norm = {});

// The same without normalisation: values in [0, 1] (x / 255), CHW. For tests and for callers that
// normalise themselves.
std::vector<float> preprocess_unnormalized(const RgbImage& image, int size);

// Normalises an already-resized RGB image into CHW floats (used by the training loader after
// augmentation, which produces the final size itself).
std::vector<float> to_normalized_chw(const RgbImage& image, const Normalization& norm = {});

}  // namespace capfilt::core
