#pragma once
// Decoding images into 8-bit RGB, the one pixel layout the rest of capfilt works with.
//
// Every function here is thread-safe and returns a Status (never throws) for what a curator can act
// on: a missing, empty, truncated or non-image file, an unsupported format, or an image so large that
// decoding it would be a decompression bomb. The pixel-count limit is checked from the file header
// BEFORE any pixel is decoded.

#include <cstdint>
#include <string>
#include <vector>

#include "db/status.h"

namespace capfilt::core {

// An image in memory: height × width × 3 bytes, row-major, channels R, G, B, 8 bits each.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // size width * height * 3

  bool empty() const { return width <= 0 || height <= 0; }
  const std::uint8_t* at(int x, int y) const { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
  std::uint8_t* at(int x, int y) { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
};

struct DecodeLimits {
  // Width × height above which an image is refused unread (the decompression-bomb guard).
  // 100 megapixels ≈ 300 MB of RGB: larger than any real photo in a captioning dataset.
  std::int64_t max_pixels = 100'000'000;
  // Files larger than this are refused before they are read into memory.
  std::int64_t max_file_bytes = 512ll * 1024 * 1024;
};

// Decodes JPEG, PNG, WebP, BMP or TIFF. EXIF orientation is applied (the returned image is upright);
// grey, grey+alpha, RGBA and 16-bit images become 8-bit RGB (alpha dropped, 16-bit scaled by 1/257).
Result<RgbImage> decode_image_file(const std::string& path, const DecodeLimits& limits = {});
// The same from bytes in memory (a tar member, a download). `name_for_messages` names the source
// in error messages.
Result<RgbImage> decode_image_bytes(const std::vector<std::uint8_t>& bytes,
                                    const std::string& name_for_messages,
                                    const DecodeLimits& limits = {});

struct ImageInfo {
  int width = 0;    // as stored in the file (before EXIF orientation is applied)
  int height = 0;
  std::string format;  // "jpeg", "png", "webp", "bmp", "tiff"
};

// Reads only the header: format and size without decoding pixels. Refuses an image above
// limits.max_pixels with Status::Code::kInvalid, and a file that is not a known image format.
Result<ImageInfo> probe_image_file(const std::string& path, const DecodeLimits& limits = {});
Result<ImageInfo> probe_image_bytes(const std::vector<std::uint8_t>& bytes,
                                    const std::string& name_for_messages,
                                    const DecodeLimits& limits = {});

// Encodes as PNG (lossless) or JPEG (by the extension of `path`; quality 0–100 for JPEG).
Status write_image_file(const RgbImage& image, const std::string& path, int jpeg_quality = 90);
// Encodes into memory; `format` is "png" or "jpeg".
Result<std::vector<std::uint8_t>> encode_image(const RgbImage& image, const std::string& format,
                                               int jpeg_quality = 90);

}  // namespace capfilt::core
