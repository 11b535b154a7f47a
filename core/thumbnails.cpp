#include "core/thumbnails.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <system_error>

namespace capfilt::core {
namespace fs = std::filesystem;

namespace {

Result<std::vector<std::uint8_t>> read_all(const std::string& path, std::int64_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Status::not_found(path + ": cannot open the file (" + ec.message() + ")");
  if (static_cast<std::int64_t>(size) > max_bytes) {
    return Status::invalid(path + ": the file is " + std::to_string(size) + " bytes, above the limit");
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(size);
  if (!in || (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))) {
    return Status::io_error(path + ": read error");
  }
  return bytes;
}

RgbImage shrink_to_fit(const RgbImage& image, int max_side) {
  int longer = std::max(image.width, image.height);
  if (longer <= max_side) return image;
  double s = static_cast<double>(max_side) / longer;
  RgbImage out;
  out.width = std::max(1, static_cast<int>(image.width * s + 0.5));
  out.height = std::max(1, static_cast<int>(image.height * s + 0.5));
  out.pixels.resize(static_cast<std::size_t>(out.width) * out.height * 3);
  cv::Mat src(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat dst(out.height, out.width, CV_8UC3, out.pixels.data());
  cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_AREA);  // a browsing preview, not model input
  return out;
}

// Writes JPEG bytes whatever the file is called: write_image_file picks the format by the name's
// extension, and the temporary name ends in ".tmpN", which made every thumbnail a PNG (~86 KB at
// 256 px instead of ~12 KB).
Status write_jpeg(const RgbImage& image, const fs::path& path) {
  constexpr int kThumbnailQuality = 85;
  Result<std::vector<std::uint8_t>> encoded = encode_image(image, "jpeg", kThumbnailQuality);
  if (!encoded) return encoded.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !out.write(reinterpret_cast<const char*>(encoded->data()),
                         static_cast<std::streamsize>(encoded->size())) ||
      !out.flush()) {
    return Status::io_error(path.string() + ": cannot write the thumbnail");
  }
  return Status::ok();
}

}  // namespace

std::string content_key(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bit
  for (std::uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex) + "-" + std::to_string(bytes.size());
}

ThumbnailCache::ThumbnailCache(fs::path cache_dir, DecodeLimits limits, Decoder decoder)
    : dir_(std::move(cache_dir)), limits_(limits), decoder_(std::move(decoder)) {}

ThumbnailCache::Stats ThumbnailCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

Result<std::string> ThumbnailCache::key_for(const std::string& image_path,
                                            std::vector<std::uint8_t>* bytes) {
  std::error_code ec;
  auto size = fs::file_size(image_path, ec);
  if (ec) return Status::not_found(image_path + ": cannot open the file (" + ec.message() + ")");
  auto mtime = fs::last_write_time(image_path, ec).time_since_epoch().count();
  std::string file_id = image_path + "|" + std::to_string(size) + "|" + std::to_string(mtime);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = key_by_file_.find(file_id);
    if (it != key_by_file_.end()) return it->second;
  }
  Result<std::vector<std::uint8_t>> read = read_all(image_path, limits_.max_file_bytes);
  if (!read) return read.status();
  *bytes = std::move(read.value());
  std::string key = content_key(*bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  key_by_file_[file_id] = key;
  return key;
}

Result<std::string> ThumbnailCache::thumbnail_file(const std::string& image_path, int max_side) {
  if (max_side <= 0) return Status::invalid("thumbnail size must be positive");
  std::vector<std::uint8_t> bytes;
  Result<std::string> key = key_for(image_path, &bytes);
  if (!key) return key.status();
  fs::path target = dir_ / (key.value() + "-" + std::to_string(max_side) + ".jpg");
  std::error_code ec;
  if (fs::exists(target, ec)) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.hits;
    return target.string();
  }
  if (bytes.empty()) {  // the key came from memory but the thumbnail file was removed since
    Result<std::vector<std::uint8_t>> read = read_all(image_path, limits_.max_file_bytes);
    if (!read) return read.status();
    bytes = std::move(read.value());
  }
  Result<RgbImage> image = decoder_ ? decoder_(bytes, image_path) : decode_image_bytes(bytes, image_path, limits_);
  if (!image) return image.status();
  fs::create_directories(dir_, ec);
  if (ec) return Status::io_error(dir_.string() + ": cannot create the thumbnail folder (" + ec.message() + ")");
  static std::atomic<std::uint64_t> counter{0};
  fs::path temp = target;
  temp += ".tmp" + std::to_string(counter++);
  Status written = write_jpeg(shrink_to_fit(image.value(), max_side), temp);
  if (!written) {
    fs::remove(temp, ec);
    return written;
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    return Status::io_error(target.string() + ": cannot store the thumbnail");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.made;
  return target.string();
}

Result<RgbImage> ThumbnailCache::thumbnail(const std::string& image_path, int max_side) {
  Result<std::string> file = thumbnail_file(image_path, max_side);
  if (!file) return file.status();
  return decode_image_file(file.value(), limits_);
}

}  // namespace capfilt::core
