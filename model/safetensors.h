#pragma once
// Reader and writer for the safetensors format, without Torch: an 8-byte little-endian header
// length N, N bytes of JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// optional "__metadata__": {string: string}}), then the raw little-endian tensor bytes, offsets
// relative to the end of the header.
//
// The reader is strict (every byte of the data section belongs to exactly one tensor, in offset
// order, as every file written by the reference library is) and throws ModelError naming the file
// and the problem. It reads the whole file into memory. A SafetensorsFile is immutable once read
// and may be shared between threads.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace capfilt::model {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// Bytes per element (1 for BOOL).
std::size_t dtype_size(DType dtype);
// The header spelling: "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL".
const char* dtype_name(DType dtype);
std::optional<DType> dtype_from_name(const std::string& name);

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // empty for a scalar
  std::size_t begin = 0;       // byte offsets into the data section, begin <= end
  std::size_t end = 0;

  int64_t numel() const;
  std::size_t num_bytes() const { return end - begin; }
};

using SafetensorsMetadata = std::map<std::string, std::string>;

class SafetensorsFile {
 public:
  // Reads and validates `path`. Throws ModelError naming the file and the problem.
  static SafetensorsFile read(const std::string& path);
  // Validates bytes already in memory; `source_name` names them in error messages.
  static SafetensorsFile parse(std::vector<uint8_t> bytes, const std::string& source_name);

  const std::string& source_name() const { return source_name_; }
  // Entries sorted by name.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const SafetensorsEntry* find(const std::string& name) const;
  const SafetensorsMetadata& metadata() const { return metadata_; }
  // The entry's bytes (entry.num_bytes() of them, little-endian, not necessarily aligned); valid as
  // long as this object lives.
  const uint8_t* data(const SafetensorsEntry& entry) const;

 private:
  SafetensorsFile() = default;
  std::string source_name_;
  std::vector<uint8_t> bytes_;
  std::size_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  SafetensorsMetadata metadata_;
};

// A tensor to write: a non-owning view of `num_bytes` little-endian bytes, which must equal the
// element count times dtype_size(dtype).
struct SafetensorsTensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::size_t num_bytes = 0;
};

// The file's bytes: tensors laid out contiguously in name order, header padded with spaces to a
// multiple of 8 bytes (as the reference writer does). Throws ModelError on duplicate or empty names,
// a name "__metadata__", negative dims or a byte count that does not match the shape.
std::vector<uint8_t> serialize_safetensors(std::vector<SafetensorsTensorView> tensors,
                                           const SafetensorsMetadata& metadata = {});
// serialize_safetensors() written to `path` (replaced if present). Throws ModelError naming the file.
void write_safetensors(const std::string& path, std::vector<SafetensorsTensorView> tensors,
                       const SafetensorsMetadata& metadata = {});

}  // namespace capfilt::model
