#pragma once
// Thumbnails for browsing, made once and kept in a cache folder.
//
// A thumbnail is keyed by the image's content (a 64-bit hash of its bytes plus their count) and the
// requested size, so a renamed or copied image reuses it and an edited image gets a new one. The
// cache survives restarts: a thumbnail on disk is never made again, so browsing decodes each full
// image at most once per size. Within one ThumbnailCache the content hash of a file is remembered by
// path, size and modification time, so a repeat request does not even re-read the image.
//
// Thread-safe: many threads may request thumbnails at once (the studio's view fetches them off the
// GUI thread). Two threads asking for the same new thumbnail may both make it; the files are
// written under a temporary name and renamed, so a reader never sees half a file.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/image_io.h"

namespace capfilt::core {

// Hex digest ("<16 hex digits>-<byte count>") of bytes; what the cache keys on.
std::string content_key(const std::vector<std::uint8_t>& bytes);

class ThumbnailCache {
 public:
  using Decoder = std::function<Result<RgbImage>(const std::vector<std::uint8_t>& bytes,
                                                 const std::string& name)>;

  // The folder is created on first use. `decoder` replaces decode_image_bytes (tests count calls).
  explicit ThumbnailCache(std::filesystem::path cache_dir, DecodeLimits limits = {},
                          Decoder decoder = nullptr);

  // Path of the thumbnail (JPEG, longer side max_side, aspect kept, never enlarged), made on the
  // first request. Errors name the image (missing, corrupt, too large) or the cache folder.
  Result<std::string> thumbnail_file(const std::string& image_path, int max_side);
  // The thumbnail's pixels.
  Result<RgbImage> thumbnail(const std::string& image_path, int max_side);

  struct Stats {
    std::int64_t hits = 0;  // served from the cache folder
    std::int64_t made = 0;  // full image decoded and a thumbnail written
  };
  Stats stats() const;

  const std::filesystem::path& folder() const { return dir_; }

 private:
  Result<std::string> key_for(const std::string& image_path, std::vector<std::uint8_t>* bytes);

  const std::filesystem::path dir_;
  const DecodeLimits limits_;
  const Decoder decoder_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> key_by_file_;  // "path|size|mtime" -> content key; guarded
  Stats stats_;                                      // guarded by mutex_
};

}  // namespace capfilt::core
