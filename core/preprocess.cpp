#include "core/preprocess.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

namespace capfilt::core {
namespace {

// A transcription of Pillow's ImagingResample (libImaging/Resample.c) for 8-bit images, so the
// pixels fed to BLIP are the ones its reference pipeline (PIL.Image.resize, BICUBIC) produces:
// double-precision filter weights normalised to sum 1, converted to fixed point with 22 fractional
// bits, each pass accumulated in integers from a rounding offset, clipped to 0–255, and the
// horizontal pass rounded to 8 bits before the vertical one reads it.

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
constexpr double kBicubicSupport = 2.0;

struct Coefficients {
  int ksize = 0;
  std::vector<int> bounds;       // per output pixel: first input index, count
  std::vector<std::int32_t> kk;  // per output pixel: ksize fixed-point weights
};

Coefficients precompute(int in_size, int out_size) {
  double scale = static_cast<double>(in_size) / out_size;
  double filterscale = std::max(scale, 1.0);  // widen the kernel when shrinking (antialiasing)
  double support = kBicubicSupport * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<std::size_t>(out_size) * 2);
  c.kk.assign(static_cast<std::size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    double center = (xx + 0.5) * scale;
    double ss = 1.0 / filterscale;
    int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic_filter((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (int x = 0; x < c.ksize; ++x) {
      double w = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
      double fixed = w * (1 << kPrecisionBits);
      c.kk[static_cast<std::size_t>(xx) * c.ksize + x] =
          static_cast<std::int32_t>(w < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

inline std::uint8_t clip8(std::int32_t v) {
  v >>= kPrecisionBits;  // arithmetic shift, as Pillow's lookup-table index
  return static_cast<std::uint8_t>(std::min(std::max(v, 0), 255));
}

// Resamples rows [row0, row0 + rows) of `in` horizontally to c.bounds.size() / 2 columns.
RgbImage resample_horizontal(const RgbImage& in, int row0, int rows, const Coefficients& c) {
  RgbImage out;
  out.width = static_cast<int>(c.bounds.size() / 2);
  out.height = rows;
  out.pixels.resize(static_cast<std::size_t>(out.width) * rows * 3);
  for (int y = 0; y < rows; ++y) {
    for (int xx = 0; xx < out.width; ++xx) {
      int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1];
      const std::int32_t* k = &c.kk[static_cast<std::size_t>(xx) * c.ksize];
      std::int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      const std::uint8_t* p = in.at(xmin, y + row0);
      for (int x = 0; x < xmax; ++x, p += 3) {
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      std::uint8_t* q = out.at(xx, y);
      q[0] = clip8(s0);
      q[1] = clip8(s1);
      q[2] = clip8(s2);
    }
  }
  return out;
}

// Resamples `in` vertically; c.bounds are relative to in's first row.
RgbImage resample_vertical(const RgbImage& in, const Coefficients& c) {
  RgbImage out;
  out.width = in.width;
  out.height = static_cast<int>(c.bounds.size() / 2);
  out.pixels.resize(static_cast<std::size_t>(out.width) * out.height * 3);
  const std::size_t stride = static_cast<std::size_t>(in.width) * 3;
  for (int yy = 0; yy < out.height; ++yy) {
    int ymin = c.bounds[yy * 2], ymax = c.bounds[yy * 2 + 1];
    const std::int32_t* k = &c.kk[static_cast<std::size_t>(yy) * c.ksize];
    for (int x = 0; x < out.width; ++x) {
      std::int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      const std::uint8_t* p = in.at(x, ymin);
      for (int y = 0; y < ymax; ++y, p += stride) {
        s0 += p[0] * k[y];
        s1 += p[1] * k[y];
        s2 += p[2] * k[y];
      }
      std::uint8_t* q = out.at(x, yy);
      q[0] = clip8(s0);
      q[1] = clip8(s1);
      q[2] = clip8(s2);
    }
  }
  return out;
}

}  // namespace

RgbImage resize_bicubic(const RgbImage& image, int width, int height) {
  assert(!image.empty() && width > 0 && height > 0);
  const bool need_horizontal = width != image.width;
  const bool need_vertical = height != image.height;
  Coefficients horiz = precompute(image.width, width);
  Coefficients vert = precompute(image.height, height);
  if (!need_horizontal && !need_vertical) return image;
  if (!need_horizontal) return resample_vertical(image, vert);
  if (!need_vertical) return resample_horizontal(image, 0, image.height, horiz);
  // Only the rows the vertical pass reads go through the horizontal pass, as in Pillow.
  int first = vert.bounds[0];
  int last = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];
  for (int i = 0; i < height; ++i) vert.bounds[i * 2] -= first;
  return resample_vertical(resample_horizontal(image, first, last - first, horiz), vert);
}

std::vector<float> to_normalized_chw(const RgbImage& image, const Normalization& norm) {
  const std::size_t plane = static_cast<std::size_t>(image.width) * image.height;
  std::vector<float> out(plane * 3);
  for (int c = 0; c < 3; ++c) {
    // The reference computes (x / 255 - mean) / std in float32; the same order keeps the rounding.
    float mean = norm.mean[c], stdev = norm.std[c];
    float* dst = out.data() + plane * c;
    for (std::size_t i = 0; i < plane; ++i) {
      dst[i] = (static_cast<float>(image.pixels[i * 3 + c]) / 255.0f - mean) / stdev;
    }
  }
  return out;
}

std::vector<float> preprocess_for_blip(const RgbImage& image, int size, const Normalization& norm) {
  return to_normalized_chw(resize_bicubic(image, size, size), norm);
}

std::vector<float> preprocess_unnormalized(const RgbImage& image, int size) {
  Normalization identity;
  identity.mean = {0.f, 0.f, 0.f};
  identity.std = {1.f, 1.f, 1.f};
  return to_normalized_chw(resize_bicubic(image, size, size), identity);
}

}  // namespace capfilt::core
