#pragma once
// Training augmentation as BLIP's pre-training transform does it: RandomResizedCrop(size,
// scale=(0.5, 1.0), bicubic) then RandomHorizontalFlip. (BLIP's RandAugment is not reproduced.)
// The sampling follows torchvision's RandomResizedCrop.get_params; the random numbers come from the
// caller's std::mt19937, so the same seed gives the same crops on every platform.

#include <random>

#include "core/image_io.h"

namespace capfilt::core {

struct AugmentOptions {
  int size = 384;            // output is size × size
  double min_scale = 0.5;    // fraction of the image area the crop covers
  double max_scale = 1.0;
  double min_ratio = 3.0 / 4.0;  // crop aspect ratio (width / height) range
  double max_ratio = 4.0 / 3.0;
  bool horizontal_flip = true;   // with probability 1/2
};

struct CropBox {
  int x = 0, y = 0, width = 0, height = 0;
  bool flip = false;
};

// Draws the crop and flip for an image of width × height.
CropBox sample_crop(int width, int height, const AugmentOptions& options, std::mt19937& rng);

// Applies a crop box: cut, bicubic resize (Pillow's, as preprocessing) to size × size, flip.
RgbImage apply_crop(const RgbImage& image, const CropBox& box, int size);

// sample_crop + apply_crop.
RgbImage augment_for_training(const RgbImage& image, const AugmentOptions& options, std::mt19937& rng);

RgbImage crop(const RgbImage& image, int x, int y, int width, int height);
RgbImage flip_horizontal(const RgbImage& image);

}  // namespace capfilt::core
