#include "core/image_io.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace capfilt::core {
namespace {

// ---- Header parsing: sizes without decoding, every read bounds-checked. -------------------------

enum class Parse { kOk, kNeedMore, kBad };

class ByteView {
 public:
  ByteView(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t size() const { return size_; }
  bool has(std::size_t offset, std::size_t n) const { return offset <= size_ && n <= size_ - offset; }
  std::uint32_t u8(std::size_t o) const { return data_[o]; }
  std::uint32_t be16(std::size_t o) const { return (u8(o) << 8) | u8(o + 1); }
  std::uint32_t le16(std::size_t o) const { return u8(o) | (u8(o + 1) << 8); }
  std::uint32_t be32(std::size_t o) const { return (be16(o) << 16) | be16(o + 2); }
  std::uint32_t le32(std::size_t o) const { return le16(o) | (le16(o + 2) << 16); }
  bool starts_with(std::size_t o, const char* magic, std::size_t n) const {
    return has(o, n) && std::memcmp(data_ + o, magic, n) == 0;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

struct Header {
  ImageInfo info;
  std::size_t jpeg_scan_start = 0;  // JPEG: offset of the first SOS segment
};

Parse parse_png(const ByteView& b, Header* h) {
  if (!b.has(0, 24)) return Parse::kBad;
  if (!b.starts_with(12, "IHDR", 4)) return Parse::kBad;
  h->info = {static_cast<int>(std::min<std::uint32_t>(b.be32(16), INT32_MAX)),
             static_cast<int>(std::min<std::uint32_t>(b.be32(20), INT32_MAX)), "png"};
  return Parse::kOk;
}

bool is_jpeg_sof(std::uint32_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the marker segments up to the first start-of-scan; the frame header (SOF) gives the size.
Parse parse_jpeg(const ByteView& b, Header* h) {
  std::size_t pos = 2;
  bool have_size = false;
  while (true) {
    if (!b.has(pos, 2)) return Parse::kNeedMore;
    if (b.u8(pos) != 0xFF) return Parse::kBad;
    std::uint32_t marker = b.u8(pos + 1);
    if (marker == 0xFF) { ++pos; continue; }  // fill byte
    pos += 2;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length field
    if (marker == 0xD9) return Parse::kBad;                               // EOI before any scan
    if (!b.has(pos, 2)) return Parse::kNeedMore;
    std::uint32_t length = b.be16(pos);
    if (length < 2) return Parse::kBad;
    if (is_jpeg_sof(marker)) {
      if (!b.has(pos, 7)) return Parse::kNeedMore;
      h->info = {static_cast<int>(b.be16(pos + 5)), static_cast<int>(b.be16(pos + 3)), "jpeg"};
      have_size = true;
    }
    if (marker == 0xDA) {
      h->jpeg_scan_start = pos;
      return have_size ? Parse::kOk : Parse::kBad;
    }
    pos += length;
  }
}

Parse parse_webp(const ByteView& b, Header* h) {
  if (!b.has(0, 30)) return Parse::kBad;
  if (b.starts_with(12, "VP8 ", 4)) {
    if (b.u8(23) != 0x9d || b.u8(24) != 0x01 || b.u8(25) != 0x2a) return Parse::kBad;
    h->info = {static_cast<int>(b.le16(26) & 0x3FFF), static_cast<int>(b.le16(28) & 0x3FFF), "webp"};
  } else if (b.starts_with(12, "VP8L", 4)) {
    if (b.u8(20) != 0x2f) return Parse::kBad;
    std::uint32_t bits = b.le32(21);
    h->info = {static_cast<int>((bits & 0x3FFF) + 1), static_cast<int>(((bits >> 14) & 0x3FFF) + 1),
               "webp"};
  } else if (b.starts_with(12, "VP8X", 4)) {
    std::uint32_t w = b.u8(24) | (b.u8(25) << 8) | (b.u8(26) << 16);
    std::uint32_t hh = b.u8(27) | (b.u8(28) << 8) | (b.u8(29) << 16);
    h->info = {static_cast<int>(w + 1), static_cast<int>(hh + 1), "webp"};
  } else {
    return Parse::kBad;
  }
  return Parse::kOk;
}

Parse parse_bmp(const ByteView& b, Header* h) {
  if (!b.has(0, 26)) return Parse::kBad;
  std::uint32_t dib = b.le32(14);
  std::int64_t w = 0, hh = 0;
  if (dib == 12) {
    w = b.le16(18);
    hh = b.le16(20);
  } else if (dib >= 40 && b.has(0, 34)) {
    w = static_cast<std::int32_t>(b.le32(18));
    hh = static_cast<std::int32_t>(b.le32(22));
    if (hh < 0) hh = -hh;
  } else {
    return Parse::kBad;
  }
  if (w <= 0 || w > INT32_MAX || hh > INT32_MAX) return Parse::kBad;
  h->info = {static_cast<int>(w), static_cast<int>(hh), "bmp"};
  return Parse::kOk;
}

Parse parse_tiff(const ByteView& b, Header* h) {
  if (!b.has(0, 8)) return Parse::kBad;
  bool le = b.u8(0) == 'I';
  auto r16 = [&](std::size_t o) { return le ? b.le16(o) : b.be16(o); };
  auto r32 = [&](std::size_t o) { return le ? b.le32(o) : b.be32(o); };
  if (r16(2) != 42) return Parse::kBad;  // 43 is BigTIFF, not handled
  std::size_t ifd = r32(4);
  if (!b.has(ifd, 2)) return Parse::kNeedMore;
  std::uint32_t count = r16(ifd);
  std::int64_t w = -1, hh = -1;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::size_t e = ifd + 2 + 12 * static_cast<std::size_t>(i);
    if (!b.has(e, 12)) return Parse::kNeedMore;
    std::uint32_t tag = r16(e), type = r16(e + 2);
    std::uint32_t value = type == 3 ? r16(e + 8) : type == 4 ? r32(e + 8) : 0;
    if (tag == 256) w = value;
    if (tag == 257) hh = value;
  }
  if (w <= 0 || hh <= 0 || w > INT32_MAX || hh > INT32_MAX) return Parse::kBad;
  h->info = {static_cast<int>(w), static_cast<int>(hh), "tiff"};
  return Parse::kOk;
}

Parse parse_header(const ByteView& b, Header* h) {
  if (b.starts_with(0, "\x89PNG\r\n\x1a\n", 8)) return parse_png(b, h);
  if (b.has(0, 3) && b.u8(0) == 0xFF && b.u8(1) == 0xD8 && b.u8(2) == 0xFF) return parse_jpeg(b, h);
  if (b.starts_with(0, "RIFF", 4) && b.starts_with(8, "WEBP", 4)) return parse_webp(b, h);
  if (b.starts_with(0, "BM", 2)) return parse_bmp(b, h);
  if (b.starts_with(0, "II*\0", 4) || b.starts_with(0, "MM\0*", 4)) return parse_tiff(b, h);
  return Parse::kBad;
}

Status bad_header_status(const ByteView& b, const std::string& name, Parse parse) {
  if (b.size() == 0) return Status::corrupt(name + ": the file is empty (0 bytes)");
  bool known = b.starts_with(0, "\x89PNG", 4) || (b.has(0, 2) && b.u8(0) == 0xFF && b.u8(1) == 0xD8) ||
               b.starts_with(0, "RIFF", 4) || b.starts_with(0, "BM", 2) ||
               b.starts_with(0, "II*\0", 4) || b.starts_with(0, "MM\0*", 4);
  if (!known) {
    return Status::unsupported(name +
                               ": not a recognised image (expected JPEG, PNG, WebP, BMP or TIFF)");
  }
  if (parse == Parse::kNeedMore) return Status::corrupt(name + ": the image file is truncated");
  return Status::corrupt(name + ": the image header is corrupt");
}

Result<Header> read_header(const ByteView& b, const std::string& name, const DecodeLimits& limits) {
  Header h;
  Parse parse = parse_header(b, &h);
  if (parse != Parse::kOk) return bad_header_status(b, name, parse);
  std::int64_t pixels = static_cast<std::int64_t>(h.info.width) * h.info.height;
  if (h.info.width <= 0 || h.info.height <= 0) {
    return Status::corrupt(name + ": the " + h.info.format + " header gives an empty image");
  }
  if (pixels > limits.max_pixels) {
    std::ostringstream m;
    m << name << ": the image is " << h.info.width << "x" << h.info.height << " = " << pixels
      << " pixels, above the limit of " << limits.max_pixels
      << " (refused unread as a possible decompression bomb)";
    return Status::invalid(m.str());
  }
  return h;
}

// OpenCV returns a half-filled image for a BMP whose uncompressed rows are not all there.
bool bmp_is_complete(const ByteView& b) {
  if (!b.has(0, 34) || b.le32(14) < 40) return true;
  std::int64_t w = static_cast<std::int32_t>(b.le32(18)), h = static_cast<std::int32_t>(b.le32(22));
  std::uint32_t bpp = b.le16(28), compression = b.le32(30);
  if ((compression != 0 && compression != 3) || w <= 0 || bpp == 0) return true;
  std::int64_t row = ((w * bpp + 31) / 32) * 4;
  std::int64_t needed = static_cast<std::int64_t>(b.le32(10)) + row * (h < 0 ? -h : h);
  return needed <= static_cast<std::int64_t>(b.size());
}

// A JPEG whose entropy-coded data stops before the end-of-image marker decodes "successfully" in
// libjpeg (grey fill plus a warning), so truncation is detected here. 0xFF 0xD9 cannot occur inside
// scan data (0xFF is byte-stuffed), so its absence after the first scan means the file was cut.
bool jpeg_has_end_marker(const std::vector<std::uint8_t>& bytes, std::size_t scan_start) {
  for (std::size_t i = bytes.size(); i-- > scan_start + 1;) {
    if (bytes[i] == 0xD9 && bytes[i - 1] == 0xFF) return true;
  }
  return false;
}

Result<std::vector<std::uint8_t>> read_file(const std::string& path, std::int64_t max_bytes,
                                            std::int64_t prefix = -1) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::not_found(path + ": cannot open the file (missing or unreadable)");
  std::int64_t size = static_cast<std::int64_t>(in.tellg());
  if (size < 0) return Status::io_error(path + ": cannot determine the file size");
  if (prefix < 0 && size > max_bytes) {
    return Status::invalid(path + ": the file is " + std::to_string(size) +
                           " bytes, above the limit of " + std::to_string(max_bytes));
  }
  std::int64_t n = prefix >= 0 ? std::min(prefix, size) : size;
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n));
  in.seekg(0);
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n)) {
    return Status::io_error(path + ": read error");
  }
  return bytes;
}

Result<RgbImage> to_rgb8(const cv::Mat& decoded, const std::string& name) {
  cv::Mat bgr;
  switch (decoded.channels()) {
    case 1: cv::cvtColor(decoded, bgr, cv::COLOR_GRAY2BGR); break;
    case 3: bgr = decoded; break;
    case 4: cv::cvtColor(decoded, bgr, cv::COLOR_BGRA2BGR); break;
    default: return Status::unsupported(name + ": unsupported channel count " +
                                        std::to_string(decoded.channels()));
  }
  cv::Mat bgr8;
  switch (bgr.depth()) {
    case CV_8U: bgr8 = bgr; break;
    case CV_16U: bgr.convertTo(bgr8, CV_8U, 1.0 / 257.0); break;
    case CV_32F:
    case CV_64F: bgr.convertTo(bgr8, CV_8U, 255.0); break;  // float images are in [0, 1]
    default: bgr.convertTo(bgr8, CV_8U); break;
  }
  RgbImage out;
  out.width = bgr8.cols;
  out.height = bgr8.rows;
  out.pixels.resize(static_cast<std::size_t>(out.width) * out.height * 3);
  cv::Mat rgb(out.height, out.width, CV_8UC3, out.pixels.data());
  cv::cvtColor(bgr8, rgb, cv::COLOR_BGR2RGB);
  return out;
}

cv::Mat as_bgr_mat(const RgbImage& image) {
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

}  // namespace

Result<ImageInfo> probe_image_bytes(const std::vector<std::uint8_t>& bytes, const std::string& name,
                                    const DecodeLimits& limits) {
  ByteView view(bytes.data(), bytes.size());
  Result<Header> header = read_header(view, name, limits);
  if (!header) return header.status();
  return header->info;
}

Result<ImageInfo> probe_image_file(const std::string& path, const DecodeLimits& limits) {
  // Headers sit near the start; JPEG metadata (EXIF, ICC) can push the frame header further out.
  for (std::int64_t prefix : {std::int64_t{64 * 1024}, std::int64_t{4 * 1024 * 1024}, std::int64_t{-1}}) {
    Result<std::vector<std::uint8_t>> bytes = read_file(path, limits.max_file_bytes, prefix);
    if (!bytes) return bytes.status();
    Header h;
    ByteView view(bytes->data(), bytes->size());
    if (parse_header(view, &h) == Parse::kNeedMore && prefix >= 0 &&
        static_cast<std::int64_t>(bytes->size()) == prefix) {
      continue;  // the header may lie beyond what was read
    }
    return probe_image_bytes(bytes.value(), path, limits);
  }
  return Status::io_error(path + ": could not read the header");
}

Result<RgbImage> decode_image_bytes(const std::vector<std::uint8_t>& bytes, const std::string& name,
                                    const DecodeLimits& limits) {
  ByteView view(bytes.data(), bytes.size());
  Result<Header> header = read_header(view, name, limits);
  if (!header) return header.status();
  if (header->info.format == "jpeg" && !jpeg_has_end_marker(bytes, header->jpeg_scan_start)) {
    return Status::corrupt(name + ": the JPEG data is truncated (no end-of-image marker)");
  }
  if (header->info.format == "bmp" && !bmp_is_complete(view)) {
    return Status::corrupt(name + ": the BMP pixel data is truncated");
  }
  try {
    // IMREAD_COLOR without IMREAD_IGNORE_ORIENTATION applies the EXIF orientation; ANYDEPTH keeps
    // 16-bit samples so they are scaled, not clipped.
    cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
    cv::Mat decoded = cv::imdecode(buffer, cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH);
    if (decoded.empty()) {
      return Status::corrupt(name + ": the " + header->info.format +
                             " data could not be decoded (corrupt or truncated)");
    }
    return to_rgb8(decoded, name);
  } catch (const cv::Exception& e) {
    return Status::corrupt(name + ": the " + header->info.format + " data could not be decoded (" +
                           e.err + ")");
  }
}

Result<RgbImage> decode_image_file(const std::string& path, const DecodeLimits& limits) {
  Result<std::vector<std::uint8_t>> bytes = read_file(path, limits.max_file_bytes);
  if (!bytes) return bytes.status();
  return decode_image_bytes(bytes.value(), path, limits);
}

Result<std::vector<std::uint8_t>> encode_image(const RgbImage& image, const std::string& format,
                                               int jpeg_quality) {
  if (image.empty() || image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    return Status::invalid("cannot encode an empty or inconsistent image");
  }
  std::string ext = format == "jpeg" || format == "jpg" ? ".jpg" : "." + format;
  std::vector<int> params;
  if (ext == ".jpg") params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  try {
    std::vector<std::uint8_t> out;
    if (!cv::imencode(ext, as_bgr_mat(image), out, params)) {
      return Status::unsupported("cannot encode as " + format);
    }
    return out;
  } catch (const cv::Exception& e) {
    return Status::unsupported("cannot encode as " + format + " (" + e.err + ")");
  }
}

Status write_image_file(const RgbImage& image, const std::string& path, int jpeg_quality) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string format = "png";
  for (const char* ext : {".jpg", ".jpeg"}) {
    if (lower.size() >= std::strlen(ext) && lower.compare(lower.size() - std::strlen(ext), std::string::npos, ext) == 0) {
      format = "jpeg";
    }
  }
  Result<std::vector<std::uint8_t>> encoded = encode_image(image, format, jpeg_quality);
  if (!encoded) return encoded.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !out.write(reinterpret_cast<const char*>(encoded->data()),
                         static_cast<std::streamsize>(encoded->size()))) {
    return Status::io_error(path + ": cannot write the image");
  }
  return Status::ok();
}

}  // namespace capfilt::core
