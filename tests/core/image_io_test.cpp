#include "core/image_io.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>

#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

class ImageIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(test::kScratchDir) / "image_io";
    fs::create_directories(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void write_bytes(const std::string& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  static std::vector<std::uint8_t> encode(const cv::Mat& m, const std::string& ext) {
    std::vector<std::uint8_t> out;
    EXPECT_TRUE(cv::imencode(ext, m, out)) << ext;
    return out;
  }
  // Left half red, right half blue (in BGR as OpenCV stores it).
  static cv::Mat red_blue(int w, int h) {
    cv::Mat m(h, w, CV_8UC3, cv::Scalar(255, 0, 0));
    m(cv::Rect(0, 0, w / 2, h)).setTo(cv::Scalar(0, 0, 255));
    return m;
  }
  fs::path dir_;
};

void expect_rgb_near(const RgbImage& img, int x, int y, int r, int g, int b, int tol) {
  const std::uint8_t* p = img.at(x, y);
  EXPECT_NEAR(p[0], r, tol) << "at " << x << "," << y;
  EXPECT_NEAR(p[1], g, tol) << "at " << x << "," << y;
  EXPECT_NEAR(p[2], b, tol) << "at " << x << "," << y;
}

TEST_F(ImageIoTest, DecodesEveryFormatAsRgb) {
  cv::Mat m = red_blue(40, 24);
  for (const std::string ext : {".png", ".jpg", ".webp", ".bmp", ".tiff"}) {
    SCOPED_TRACE(ext);
    std::string p = path("rb" + ext);
    write_bytes(p, encode(m, ext));
    Result<ImageInfo> info = probe_image_file(p);
    ASSERT_TRUE(info) << info.status().message();
    EXPECT_EQ(info->width, 40);
    EXPECT_EQ(info->height, 24);
    Result<RgbImage> img = decode_image_file(p);
    ASSERT_TRUE(img) << img.status().message();
    ASSERT_EQ(img->width, 40);
    ASSERT_EQ(img->height, 24);
    ASSERT_EQ(img->pixels.size(), 40u * 24 * 3);
    int tol = ext == ".jpg" || ext == ".webp" ? 40 : 0;
    expect_rgb_near(img.value(), 5, 12, 255, 0, 0, tol);
    expect_rgb_near(img.value(), 35, 12, 0, 0, 255, tol);
  }
}

TEST_F(ImageIoTest, ProbeReportsFormatNames) {
  cv::Mat m = red_blue(8, 8);
  const std::pair<const char*, const char*> cases[] = {
      {".png", "png"}, {".jpg", "jpeg"}, {".webp", "webp"}, {".bmp", "bmp"}, {".tiff", "tiff"}};
  for (const auto& [ext, name] : cases) {
    Result<ImageInfo> info = probe_image_bytes(encode(m, ext), ext);
    ASSERT_TRUE(info) << info.status().message();
    EXPECT_EQ(info->format, name);
  }
}

TEST_F(ImageIoTest, DecodesARealPhoto) {
  std::string p = std::string(test::kTestDataDir) + "/coco-cc-by/images/000000397133.jpg";
  Result<ImageInfo> info = probe_image_file(p);
  ASSERT_TRUE(info) << info.status().message();
  Result<RgbImage> img = decode_image_file(p);
  ASSERT_TRUE(img) << img.status().message();
  EXPECT_EQ(img->width, info->width);
  EXPECT_EQ(img->height, info->height);
}

// Builds a JPEG with an EXIF APP1 segment holding only the orientation tag (0x0112).
std::vector<std::uint8_t> jpeg_with_orientation(const std::vector<std::uint8_t>& jpeg, int orientation) {
  const std::uint8_t tiff[] = {'M', 'M', 0, 42, 0, 0, 0, 8,  // big-endian TIFF header, IFD at 8
                               0, 1,                          // one entry
                               0x01, 0x12, 0, 3, 0, 0, 0, 1,  // orientation, SHORT, count 1
                               0, static_cast<std::uint8_t>(orientation), 0, 0,
                               0, 0, 0, 0};  // no next IFD
  std::vector<std::uint8_t> app1 = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
  app1.insert(app1.end(), std::begin(tiff), std::end(tiff));
  std::size_t len = app1.size() - 2;
  app1[2] = static_cast<std::uint8_t>(len >> 8);
  app1[3] = static_cast<std::uint8_t>(len & 0xFF);
  std::vector<std::uint8_t> out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  out.insert(out.end(), app1.begin(), app1.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

TEST_F(ImageIoTest, AppliesExifOrientation) {
  std::vector<std::uint8_t> plain = encode(red_blue(64, 32), ".jpg");
  // 6: the stored image must be turned 90° clockwise to display: its left (red) half goes on top.
  std::string p = path("rotated.jpg");
  write_bytes(p, jpeg_with_orientation(plain, 6));
  Result<RgbImage> img = decode_image_file(p);
  ASSERT_TRUE(img) << img.status().message();
  ASSERT_EQ(img->width, 32);
  ASSERT_EQ(img->height, 64);
  expect_rgb_near(img.value(), 16, 8, 255, 0, 0, 40);
  expect_rgb_near(img.value(), 16, 56, 0, 0, 255, 40);
  // 1 is upright: unchanged.
  Result<RgbImage> upright = decode_image_bytes(jpeg_with_orientation(plain, 1), "upright.jpg");
  ASSERT_TRUE(upright) << upright.status().message();
  EXPECT_EQ(upright->width, 64);
  // 3: rotated 180°, red ends on the right.
  Result<RgbImage> flipped = decode_image_bytes(jpeg_with_orientation(plain, 3), "r180.jpg");
  ASSERT_TRUE(flipped) << flipped.status().message();
  ASSERT_EQ(flipped->width, 64);
  expect_rgb_near(flipped.value(), 56, 16, 255, 0, 0, 40);
}

TEST_F(ImageIoTest, GreyBecomesRgb) {
  cv::Mat grey(10, 12, CV_8UC1, cv::Scalar(77));
  Result<RgbImage> img = decode_image_bytes(encode(grey, ".png"), "grey.png");
  ASSERT_TRUE(img) << img.status().message();
  expect_rgb_near(img.value(), 3, 3, 77, 77, 77, 0);
}

TEST_F(ImageIoTest, AlphaIsDropped) {
  cv::Mat bgra(10, 12, CV_8UC4, cv::Scalar(10, 20, 30, 128));  // half transparent
  for (const std::string ext : {".png", ".webp", ".tiff"}) {
    Result<RgbImage> img = decode_image_bytes(encode(bgra, ext), "alpha" + ext);
    ASSERT_TRUE(img) << img.status().message();
    EXPECT_EQ(img->pixels.size(), 10u * 12 * 3);
    expect_rgb_near(img.value(), 3, 3, 30, 20, 10, ext == ".webp" ? 3 : 0);
  }
}

TEST_F(ImageIoTest, SixteenBitIsScaledNotClipped) {
  for (const std::string ext : {".png", ".tiff"}) {
    cv::Mat m16(6, 6, CV_16UC3, cv::Scalar(0, 32896, 65535));  // 0, 128*257, 255*257
    Result<RgbImage> img = decode_image_bytes(encode(m16, ext), "deep" + ext);
    ASSERT_TRUE(img) << img.status().message();
    expect_rgb_near(img.value(), 2, 2, 255, 128, 0, 0);
    cv::Mat g16(6, 6, CV_16UC1, cv::Scalar(257 * 200));
    Result<RgbImage> grey = decode_image_bytes(encode(g16, ext), "deepgrey" + ext);
    ASSERT_TRUE(grey) << grey.status().message();
    expect_rgb_near(grey.value(), 2, 2, 200, 200, 200, 0);
  }
}

// A PNG header claiming 100000 × 100000 pixels, followed by no image data at all: if the limit
// were checked after decoding, this would be a decode error (or an allocation of 30 GB) instead.
std::vector<std::uint8_t> png_bomb_header() {
  std::vector<std::uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                 'I', 'H', 'D', 'R', 0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0};
  return b;
}

TEST_F(ImageIoTest, RefusesDecompressionBombFromTheHeader) {
  std::string p = path("bomb.png");
  write_bytes(p, png_bomb_header());
  Result<RgbImage> img = decode_image_file(p);
  ASSERT_FALSE(img);
  EXPECT_EQ(img.status().code(), Status::Code::kInvalid);
  EXPECT_NE(img.status().message().find("bomb.png"), std::string::npos);
  EXPECT_NE(img.status().message().find("10000000000 pixels"), std::string::npos)
      << img.status().message();
  EXPECT_FALSE(probe_image_file(p));
}

TEST_F(ImageIoTest, RefusesAJpegBombBehindMetadata) {
  // SOI, 80 kB of APP2 (ICC-like) segments (past the first 64 kB probe read), then a frame
  // header claiming 60000 × 60000 and a scan.
  std::vector<std::uint8_t> b = {0xFF, 0xD8};
  for (int seg = 0; seg < 4; ++seg) {
    b.insert(b.end(), {0xFF, 0xE2, 0x4E, 0x20});  // length 20000
    b.insert(b.end(), 20000 - 2, 0);
  }
  b.insert(b.end(), {0xFF, 0xC0, 0, 17, 8, 0xEA, 0x60, 0xEA, 0x60, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
  b.insert(b.end(), {0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0});
  std::string p = path("bomb.jpg");
  write_bytes(p, b);
  Result<ImageInfo> info = probe_image_file(p);
  ASSERT_FALSE(info);
  EXPECT_NE(info.status().message().find("60000x60000"), std::string::npos) << info.status().message();
  DecodeLimits generous;
  generous.max_pixels = 4'000'000'000;
  Result<ImageInfo> allowed = probe_image_file(p, generous);
  ASSERT_TRUE(allowed) << allowed.status().message();
  EXPECT_EQ(allowed->width, 60000);
  EXPECT_EQ(allowed->format, "jpeg");
  Result<RgbImage> img = decode_image_file(p);
  ASSERT_FALSE(img);
  EXPECT_EQ(img.status().code(), Status::Code::kInvalid);
}

TEST_F(ImageIoTest, LimitAppliesToEveryFormat) {
  cv::Mat m = red_blue(40, 30);  // 1200 pixels
  DecodeLimits tight;
  tight.max_pixels = 1199;
  for (const std::string ext : {".png", ".jpg", ".webp", ".bmp", ".tiff"}) {
    std::vector<std::uint8_t> bytes = encode(m, ext);
    Result<RgbImage> img = decode_image_bytes(bytes, "big" + ext, tight);
    ASSERT_FALSE(img) << ext;
    EXPECT_EQ(img.status().code(), Status::Code::kInvalid) << ext;
    tight.max_pixels = 1200;
    EXPECT_TRUE(decode_image_bytes(bytes, "ok" + ext, tight)) << ext;
    tight.max_pixels = 1199;
  }
}

TEST_F(ImageIoTest, BadFilesAreStatusesNamingTheFile) {
  cv::Mat m = red_blue(64, 48);
  struct Case {
    std::string name;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Case> cases = {{"empty.jpg", {}},
                             {"text.jpg", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'}}};
  for (const std::string ext : {".png", ".jpg", ".webp", ".bmp", ".tiff"}) {
    std::vector<std::uint8_t> full = encode(m, ext);
    cases.push_back({"truncated" + ext, {full.begin(), full.begin() + full.size() / 2}});
    cases.push_back({"header-only" + ext, {full.begin(), full.begin() + std::min<std::size_t>(full.size(), 12)}});
  }
  for (const Case& c : cases) {
    std::string p = path(c.name);
    write_bytes(p, c.bytes);
    Result<RgbImage> img = decode_image_file(p);
    EXPECT_FALSE(img) << c.name << " decoded";
    if (!img) EXPECT_NE(img.status().message().find(c.name), std::string::npos) << img.status().message();
  }
  Result<RgbImage> missing = decode_image_file(path("does-not-exist.png"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("does-not-exist.png"), std::string::npos);
}

TEST_F(ImageIoTest, WriteAndReadBackPng) {
  RgbImage img;
  img.width = 3;
  img.height = 2;
  img.pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  ASSERT_TRUE(write_image_file(img, path("small.png")));
  Result<RgbImage> back = decode_image_file(path("small.png"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pixels, img.pixels);
}

}  // namespace
}  // namespace capfilt::core
