#include "core/preprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include "test_paths.h"

namespace capfilt::core {
namespace {

// A minimal, bounds-checked safetensors reader for the fixture (core tests do not link model/).
struct Tensor {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;
};

std::map<std::string, Tensor> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, Tensor> out;
  if (file.size() < 8) return out;
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[i];
  if (n > file.size() - 8) return out;
  nlohmann::json header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  const std::size_t base = 8 + n;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    std::size_t begin = entry["data_offsets"][0], end = entry["data_offsets"][1];
    if (begin > end || end > file.size() - base) continue;
    Tensor t{entry["dtype"], entry["shape"].get<std::vector<std::int64_t>>(),
             {file.begin() + base + begin, file.begin() + base + end}};
    out[name] = std::move(t);
  }
  return out;
}

std::vector<float> as_floats(const Tensor& t) {
  std::vector<float> v(t.bytes.size() / 4);
  std::memcpy(v.data(), t.bytes.data(), v.size() * 4);  // little-endian host assumed (x86, arm64)
  return v;
}

RgbImage as_image(const Tensor& t) {
  RgbImage img;
  img.height = static_cast<int>(t.shape.at(0));
  img.width = static_cast<int>(t.shape.at(1));
  img.pixels = t.bytes;
  return img;
}

class PreprocessParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tensors_ = read_safetensors(std::string(test::kTestDataDir) +
                                "/blip-parity-tiny-vocab/preprocess.safetensors");
  }
  static const Tensor& get(const std::string& name) { return tensors_.at(name); }
  static std::vector<float> unnormalize(const std::vector<float>& chw, std::size_t plane) {
    const Normalization n;
    std::vector<float> out(chw.size());
    for (std::size_t i = 0; i < chw.size(); ++i) {
      int c = static_cast<int>(i / plane);
      out[i] = chw[i] * n.std[c] + n.mean[c];
    }
    return out;
  }
  // Compares our output with the reference's, both in [0, 1], and returns the largest difference.
  static float max_diff(const std::vector<float>& ours, const std::vector<float>& ref) {
    EXPECT_EQ(ours.size(), ref.size());
    float worst = 0;
    for (std::size_t i = 0; i < std::min(ours.size(), ref.size()); ++i) {
      worst = std::max(worst, std::abs(ours[i] - ref[i]));
    }
    return worst;
  }
  static std::map<std::string, Tensor> tensors_;
};
std::map<std::string, Tensor> PreprocessParity::tensors_;

TEST_F(PreprocessParity, FixtureIsReadable) {
  ASSERT_EQ(tensors_.size(), 5u);
  EXPECT_EQ(get("img0_uint8_hwc").shape, (std::vector<std::int64_t>{48, 64, 3}));
}

TEST_F(PreprocessParity, MatchesPillowAt32) {
  std::vector<float> ref = as_floats(get("pixel_values_32"));
  const std::size_t plane = 32 * 32, per_image = 3 * plane;
  ASSERT_EQ(ref.size(), 2 * per_image);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    RgbImage img = as_image(get("img" + std::to_string(i) + "_uint8_hwc"));
    std::vector<float> ref_i(ref.begin() + i * per_image, ref.begin() + (i + 1) * per_image);
    EXPECT_LE(max_diff(preprocess_unnormalized(img, 32), unnormalize(ref_i, plane)), 1.0f / 255);
    // Normalised output too, to the same tolerance scaled by 1/std.
    EXPECT_LE(max_diff(preprocess_for_blip(img, 32), ref_i), 1.0f / 255 / 0.26f);
  }
}

TEST_F(PreprocessParity, MatchesPillowAt384) {
  const std::size_t plane = 384 * 384;
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    RgbImage img = as_image(get("img" + std::to_string(i) + "_uint8_hwc"));
    std::vector<float> ref = as_floats(get("pixel_values_384_img" + std::to_string(i)));
    std::vector<float> ours = preprocess_unnormalized(img, 384);
    std::vector<float> ref01 = unnormalize(ref, plane);
    EXPECT_LE(max_diff(ours, ref01), 1.0f / 255);
    // Pillow's integer arithmetic is reproduced exactly, so nearly every value is bit-equal.
    std::size_t off_by_more_than_rounding = 0;
    for (std::size_t k = 0; k < ours.size(); ++k) {
      if (std::abs(ours[k] - ref01[k]) > 1e-4f) ++off_by_more_than_rounding;
    }
    EXPECT_EQ(off_by_more_than_rounding, 0u);
  }
}

TEST(Preprocess, DiffersFromNaiveResize) {
  // Shrinking a fine checkerboard: an antialiased resize averages it to grey; a point sampler
  // would keep black or white. Guards against a silent switch to a non-antialiased kernel.
  RgbImage img;
  img.width = img.height = 64;
  img.pixels.resize(64 * 64 * 3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      std::memset(img.at(x, y), ((x + y) % 2) ? 255 : 0, 3);
  RgbImage small = resize_bicubic(img, 8, 8);
  for (std::uint8_t v : small.pixels) EXPECT_NEAR(v, 128, 4);
}

TEST(Preprocess, ChwLayoutAndNormalisation) {
  RgbImage img;
  img.width = 2;
  img.height = 1;
  img.pixels = {255, 0, 0, 0, 255, 0};
  std::vector<float> v = to_normalized_chw(img);
  const Normalization n;
  ASSERT_EQ(v.size(), 6u);
  EXPECT_FLOAT_EQ(v[0], (1.0f - n.mean[0]) / n.std[0]);  // R of pixel 0
  EXPECT_FLOAT_EQ(v[1], (0.0f - n.mean[0]) / n.std[0]);  // R of pixel 1
  EXPECT_FLOAT_EQ(v[3], (1.0f - n.mean[1]) / n.std[1]);  // G of pixel 1
}

TEST(Preprocess, SameSizeIsIdentity) {
  RgbImage img;
  img.width = 3;
  img.height = 2;
  img.pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  EXPECT_EQ(resize_bicubic(img, 3, 2).pixels, img.pixels);
}

}  // namespace
}  // namespace capfilt::core
