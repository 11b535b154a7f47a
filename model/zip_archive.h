#pragma once
// A read-only view of a zip archive held in memory, without Torch and without decompression: the
// archives torch.save writes store every record uncompressed. Reads the central directory (zip64
// included), checks that every entry lies inside the bytes, and hands out a stored entry's bytes
// after checking its local header and its CRC-32 (unless the archive left it 0: not computed).
//
// Errors throw ModelError with `source_name` and the problem. A ZipArchive does not own the bytes:
// they must outlive it. Immutable after construction; may be shared between threads.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace capfilt::model {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;          // 0 = stored
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t local_header_offset = 0;
};

class ZipArchive {
 public:
  // Parses the central directory of `bytes[0, size)`. Throws ModelError when it is not a zip
  // archive, is truncated, or names an entry twice.
  ZipArchive(const uint8_t* bytes, std::size_t size, std::string source_name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const ZipEntry* find(const std::string& name) const;

  struct Span {
    const uint8_t* data;
    std::size_t size;
  };
  // The bytes of a stored entry. Throws ModelError when the entry is compressed, its local header
  // is damaged, its data runs past the end of the archive, or its CRC-32 does not match.
  Span read(const ZipEntry& entry) const;

 private:
  [[noreturn]] void fail(const std::string& problem) const;
  void read_central_directory(uint64_t offset, uint64_t count, uint64_t cd_size);

  const uint8_t* bytes_;
  std::size_t size_;
  std::string source_name_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> entries_ position
};

// The CRC-32 zip uses (polynomial 0xEDB88320).
uint32_t zip_crc32(const uint8_t* data, std::size_t size);

}  // namespace capfilt::model
