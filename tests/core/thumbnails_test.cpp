#include "core/thumbnails.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_paths.h"

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

class ThumbnailsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(test::kScratchDir) / "thumbnails";
    fs::remove_all(root_);
    fs::create_directories(root_ / "images");
    photo_ = (root_ / "images" / "photo.jpg").string();
    fs::copy_file(std::string(test::kTestDataDir) + "/coco-cc-by/images/000000397133.jpg", photo_);
  }
  ThumbnailCache::Decoder counting_decoder() {
    return [this](const std::vector<std::uint8_t>& bytes, const std::string& name) {
      ++decodes_;
      return decode_image_bytes(bytes, name);
    };
  }
  fs::path root_;
  std::string photo_;
  std::atomic<int> decodes_{0};
};

TEST_F(ThumbnailsTest, SecondRequestDoesNotDecode) {
  ThumbnailCache cache(root_ / "cache", {}, counting_decoder());
  Result<RgbImage> first = cache.thumbnail(photo_, 128);
  ASSERT_TRUE(first) << first.status().message();
  EXPECT_EQ(std::max(first->width, first->height), 128);
  EXPECT_EQ(decodes_, 1);
  Result<std::string> again = cache.thumbnail_file(photo_, 128);
  ASSERT_TRUE(again);
  EXPECT_EQ(decodes_, 1);
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().made, 1);
}

TEST_F(ThumbnailsTest, CacheSurvivesANewSessionAndFollowsContent) {
  {
    ThumbnailCache cache(root_ / "cache", {}, counting_decoder());
    ASSERT_TRUE(cache.thumbnail_file(photo_, 64));
  }
  ThumbnailCache later(root_ / "cache", {}, counting_decoder());
  ASSERT_TRUE(later.thumbnail_file(photo_, 64));
  EXPECT_EQ(decodes_, 1) << "a new session re-decoded a cached image";
  // A copy under another name has the same content: same thumbnail.
  std::string copy = (root_ / "images" / "copy.jpg").string();
  fs::copy_file(photo_, copy);
  Result<std::string> a = later.thumbnail_file(photo_, 64), b = later.thumbnail_file(copy, 64);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a.value(), b.value());
  EXPECT_EQ(decodes_, 1);
  // Another size is another thumbnail.
  ASSERT_TRUE(later.thumbnail_file(photo_, 32));
  EXPECT_EQ(decodes_, 2);
  // Changed content (same path) is another thumbnail.
  fs::copy_file(std::string(test::kTestDataDir) + "/coco-cc-by/images/000000006818.jpg", photo_,
                fs::copy_options::overwrite_existing);
  Result<std::string> changed = later.thumbnail_file(photo_, 32);
  ASSERT_TRUE(changed);
  EXPECT_EQ(decodes_, 3);
}

TEST_F(ThumbnailsTest, SmallImagesAreNotEnlarged) {
  ThumbnailCache cache(root_ / "cache");
  Result<RgbImage> t = cache.thumbnail(std::string(test::kTestDataDir) + "/blip-parity-tiny-vocab/img1.png", 256);
  ASSERT_TRUE(t) << t.status().message();
  EXPECT_EQ(t->width, 27);
  EXPECT_EQ(t->height, 20);
}

TEST_F(ThumbnailsTest, BadImagesAreStatuses) {
  ThumbnailCache cache(root_ / "cache");
  std::string bad = (root_ / "images" / "bad.jpg").string();
  std::ofstream(bad) << "not an image";
  Result<std::string> r = cache.thumbnail_file(bad, 64);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("bad.jpg"), std::string::npos);
  EXPECT_FALSE(cache.thumbnail_file((root_ / "images" / "nope.jpg").string(), 64));
  EXPECT_FALSE(fs::exists(root_ / "cache") && !fs::is_empty(root_ / "cache"));
}

TEST_F(ThumbnailsTest, ThumbnailsAreRealJpegsOfAFewKilobytes) {
  // The file's format must not follow the temporary name ("….jpg.tmpN"): it was PNG, ~93 KB each.
  ThumbnailCache cache(root_ / "cache");
  std::int64_t total_bytes = 0;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(std::string(test::kTestDataDir) + "/coco-cc-by/images")) {
    if (entry.path().extension() != ".jpg") continue;
    Result<std::string> file = cache.thumbnail_file(entry.path().string(), 256);
    ASSERT_TRUE(file) << file.status().message();
    std::ifstream in(file.value(), std::ios::binary);
    unsigned char magic[3] = {0, 0, 0};
    in.read(reinterpret_cast<char*>(magic), 3);
    EXPECT_EQ(magic[0], 0xFF) << file.value();
    EXPECT_EQ(magic[1], 0xD8) << file.value();
    EXPECT_EQ(magic[2], 0xFF) << file.value();
    Result<ImageInfo> info = probe_image_file(file.value());
    ASSERT_TRUE(info) << info.status().message();
    EXPECT_EQ(info->format, "jpeg");
    EXPECT_EQ(std::max(info->width, info->height), 256);
    const auto bytes = static_cast<std::int64_t>(fs::file_size(file.value()));
    EXPECT_LT(bytes, 40 * 1024) << file.value();
    total_bytes += bytes;
    ++count;
  }
  ASSERT_GT(count, 20);
  const double mean_kb = static_cast<double>(total_bytes) / count / 1024.0;
  std::printf("%d thumbnails of 256 px: %.1f KB each on average\n", count, mean_kb);
  EXPECT_LT(mean_kb, 25.0);
  // A cached thumbnail decodes to the right size.
  Result<RgbImage> again = cache.thumbnail(photo_, 256);
  ASSERT_TRUE(again) << again.status().message();
  EXPECT_EQ(std::max(again->width, again->height), 256);
}

TEST(ContentKey, DependsOnBytes) {
  EXPECT_EQ(content_key({1, 2, 3}), content_key({1, 2, 3}));
  EXPECT_NE(content_key({1, 2, 3}), content_key({1, 2, 4}));
  EXPECT_EQ(content_key({}), "cbf29ce484222325-0");
}

}  // namespace
}  // namespace capfilt::core
