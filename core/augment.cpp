#include "core/augment.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "core/preprocess.h"
#include "core/random_util.h"

namespace capfilt::core {

CropBox sample_crop(int width, int height, const AugmentOptions& options, std::mt19937& rng) {
  const double area = static_cast<double>(width) * height;
  const double log_min = std::log(options.min_ratio), log_max = std::log(options.max_ratio);
  CropBox box;
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    double target = area * uniform(rng, options.min_scale, options.max_scale);
    double ratio = std::exp(uniform(rng, log_min, log_max));
    int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
    int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      box = {uniform_int(rng, 0, width - w), uniform_int(rng, 0, height - h), w, h, false};
      found = true;
    }
  }
  if (!found) {  // torchvision's fallback: the largest central crop within the ratio range
    double in_ratio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (in_ratio < options.min_ratio) {
      h = static_cast<int>(std::lround(w / options.min_ratio));
    } else if (in_ratio > options.max_ratio) {
      w = static_cast<int>(std::lround(h * options.max_ratio));
    }
    box = {(width - w) / 2, (height - h) / 2, std::max(w, 1), std::max(h, 1), false};
  }
  box.flip = options.horizontal_flip && bernoulli(rng, 0.5);
  return box;
}

RgbImage crop(const RgbImage& image, int x, int y, int width, int height) {
  assert(x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= image.width &&
         y + height <= image.height);
  RgbImage out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<std::size_t>(width) * height * 3);
  for (int row = 0; row < height; ++row) {
    std::memcpy(out.at(0, row), image.at(x, y + row), static_cast<std::size_t>(width) * 3);
  }
  return out;
}

RgbImage flip_horizontal(const RgbImage& image) {
  RgbImage out = image;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      std::memcpy(out.at(image.width - 1 - x, y), image.at(x, y), 3);
    }
  }
  return out;
}

RgbImage apply_crop(const RgbImage& image, const CropBox& box, int size) {
  RgbImage out = resize_bicubic(crop(image, box.x, box.y, box.width, box.height), size, size);
  return box.flip ? flip_horizontal(out) : out;
}

RgbImage augment_for_training(const RgbImage& image, const AugmentOptions& options, std::mt19937& rng) {
  return apply_crop(image, sample_crop(image.width, image.height, options, rng), options.size);
}

}  // namespace capfilt::core
