#include "model/zip_archive.h"

#include <array>

#include "model/error.h"

namespace capfilt::model {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Slicing-by-8 tables: table[0] is the classic byte-at-a-time table; table[k][i] is the CRC of
// byte i followed by k zero bytes, so eight bytes are folded in per step (several times faster
// than byte by byte, which matters for a checkpoint of gigabytes).
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
  return t;
}

constexpr CrcTables kCrc = make_crc_tables();

}  // namespace

uint32_t zip_crc32(const uint8_t* data, std::size_t size) {
  uint32_t c = 0xFFFFFFFFu;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint8_t* p = data + i;
    const uint32_t lo = c ^ (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    c = kCrc[7][lo & 0xFF] ^ kCrc[6][(lo >> 8) & 0xFF] ^ kCrc[5][(lo >> 16) & 0xFF] ^ kCrc[4][lo >> 24] ^
        kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
  }
  for (; i < size; ++i) c = kCrc[0][(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void ZipArchive::fail(const std::string& problem) const {
  throw ModelError(source_name_ + ": " + problem);
}

ZipArchive::ZipArchive(const uint8_t* bytes, std::size_t size, std::string source_name)
    : bytes_(bytes), size_(size), source_name_(std::move(source_name)) {
  if (size_ < kEndSize) fail("not a zip archive (" + std::to_string(size_) + " bytes, truncated?)");
  // The end record sits in the last 22 + 65535 (comment) bytes; search it from the end.
  std::size_t end = std::string::npos;
  const std::size_t lowest = size_ > kEndSize + 0xFFFF ? size_ - kEndSize - 0xFFFF : 0;
  for (std::size_t i = size_ - kEndSize + 1; i-- > lowest;) {
    if (le(bytes_ + i, 4) == kEndSig && i + kEndSize + le(bytes_ + i + 20, 2) <= size_) {
      end = i;
      break;
    }
  }
  if (end == std::string::npos) fail("not a zip archive, or a truncated one (no end of central directory)");
  const uint8_t* e = bytes_ + end;
  if (le(e + 4, 2) != 0 || le(e + 6, 2) != 0) fail("multi-disk zip archives are not supported");
  uint64_t count = le(e + 10, 2);
  uint64_t cd_size = le(e + 12, 4);
  uint64_t cd_offset = le(e + 16, 4);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    if (end < kZip64LocatorSize || le(bytes_ + end - kZip64LocatorSize, 4) != kZip64LocatorSig) {
      fail("zip64 end of central directory locator missing");
    }
    const uint64_t z64 = le(bytes_ + end - kZip64LocatorSize + 8, 8);
    if (z64 > size_ || size_ - z64 < kZip64EndSize || le(bytes_ + z64, 4) != kZip64EndSig) {
      fail("zip64 end of central directory record missing or past the end of the file");
    }
    count = le(bytes_ + z64 + 32, 8);
    cd_size = le(bytes_ + z64 + 40, 8);
    cd_offset = le(bytes_ + z64 + 48, 8);
  }
  if (cd_offset > size_ || cd_size > size_ - cd_offset) {
    fail("the central directory lies past the end of the file (truncated?)");
  }
  read_central_directory(cd_offset, count, cd_size);
}

void ZipArchive::read_central_directory(uint64_t offset, uint64_t count, uint64_t cd_size) {
  if (count > cd_size / kCentralHeaderSize) {
    fail("the central directory claims " + std::to_string(count) + " entries in " +
         std::to_string(cd_size) + " bytes");
  }
  const uint64_t cd_end = offset + cd_size;
  entries_.reserve(static_cast<std::size_t>(count));
  uint64_t p = offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd_end - p < kCentralHeaderSize || le(bytes_ + p, 4) != kCentralHeaderSig) {
      fail("central directory entry " + std::to_string(i) + " is damaged");
    }
    const uint8_t* h = bytes_ + p;
    const uint64_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    if (cd_end - p - kCentralHeaderSize < name_len + extra_len + comment_len) {
      fail("central directory entry " + std::to_string(i) + " runs past the directory");
    }
    ZipEntry entry;
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    if ((le(h + 8, 2) & 1) != 0) fail("entry \"" + entry.name + "\" is encrypted");
    entry.method = static_cast<uint16_t>(le(h + 10, 2));
    entry.crc32 = static_cast<uint32_t>(le(h + 16, 4));
    entry.compressed_size = le(h + 20, 4);
    entry.size = le(h + 24, 4);
    entry.local_header_offset = le(h + 42, 4);
    // Zip64 extra field: the 64-bit values of the fields saturated above, in this order.
    const uint8_t* x = h + kCentralHeaderSize + name_len;
    const uint8_t* x_end = x + extra_len;
    while (x_end - x >= 4) {
      const uint64_t id = le(x, 2), len = le(x + 2, 2);
      if (static_cast<uint64_t>(x_end - x - 4) < len) fail("entry \"" + entry.name + "\": damaged extra field");
      if (id == 0x0001) {
        const uint8_t* f = x + 4;
        uint64_t left = len;
        for (uint64_t* field : {&entry.size, &entry.compressed_size, &entry.local_header_offset}) {
          if (*field != 0xFFFFFFFF) continue;
          if (left < 8) fail("entry \"" + entry.name + "\": damaged zip64 extra field");
          *field = le(f, 8);
          f += 8;
          left -= 8;
        }
      }
      x += 4 + len;
    }
    if (!index_.emplace(entry.name, entries_.size()).second) fail("entry \"" + entry.name + "\" appears twice");
    entries_.push_back(std::move(entry));
    p += kCentralHeaderSize + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

ZipArchive::Span ZipArchive::read(const ZipEntry& entry) const {
  const std::string what = "entry \"" + entry.name + "\": ";
  if (entry.method != 0) {
    fail(what + "compressed (method " + std::to_string(entry.method) +
         "); PyTorch checkpoints store records uncompressed");
  }
  if (entry.compressed_size != entry.size) fail(what + "stored sizes disagree");
  const uint64_t off = entry.local_header_offset;
  if (off > size_ || size_ - off < kLocalHeaderSize || le(bytes_ + off, 4) != kLocalHeaderSig) {
    fail(what + "local header missing or past the end of the archive (truncated?)");
  }
  const uint64_t name_len = le(bytes_ + off + 26, 2), extra_len = le(bytes_ + off + 28, 2);
  const uint64_t start = off + kLocalHeaderSize + name_len + extra_len;
  if (start > size_ || entry.size > size_ - start) {
    fail(what + std::to_string(entry.size) + " bytes at offset " + std::to_string(start) +
         " run past the end of the archive (" + std::to_string(size_) + " bytes; truncated?)");
  }
  if (name_len != entry.name.size() ||
      entry.name.compare(0, entry.name.size(), reinterpret_cast<const char*>(bytes_ + off + kLocalHeaderSize),
                         name_len) != 0) {
    fail(what + "the local header names another entry");
  }
  const uint8_t* data = bytes_ + start;
  const std::size_t n = static_cast<std::size_t>(entry.size);
  // PyTorch 2.6 can save without computing CRCs (torch.serialization.config.save.compute_crc32 =
  // False), leaving 0; such a record cannot be checked.
  if (entry.crc32 != 0 && zip_crc32(data, n) != entry.crc32) fail(what + "CRC-32 mismatch (the file is damaged)");
  return {data, n};
}

}  // namespace capfilt::model
