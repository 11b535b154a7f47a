#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "model/error.h"

namespace capfilt::model {

namespace {

using json = nlohmann::json;

// The reference library refuses headers above 100 MB; a larger length is a corrupt file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  DType dtype;
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kF64, "F64", 8}, {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2}, {DType::kI8, "I8", 1}, {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
};

const DTypeInfo& info(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d;
  }
  throw ModelError("safetensors: invalid dtype value");
}

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw ModelError("safetensors file " + source + ": " + problem);
}

// Element count of `shape`, or nullopt when it overflows.
std::optional<uint64_t> element_count(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    const auto u = static_cast<uint64_t>(d);
    if (u != 0 && n > std::numeric_limits<uint64_t>::max() / u) return std::nullopt;
    n *= u;
  }
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

uint64_t read_offset(const json& value, const std::string& source, const std::string& name) {
  if (!value.is_number_integer()) {
    fail(source, "tensor \"" + name + "\": data_offsets must be two non-negative integers");
  }
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  const auto v = value.get<int64_t>();
  if (v < 0) fail(source, "tensor \"" + name + "\": negative data offset " + std::to_string(v));
  return static_cast<uint64_t>(v);
}

SafetensorsEntry parse_entry(const std::string& name, const json& value, uint64_t data_size,
                             const std::string& source) {
  const std::string what = "tensor \"" + name + "\": ";
  if (!value.is_object()) fail(source, what + "entry is not an object");
  SafetensorsEntry entry;
  entry.name = name;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end() || !dtype_it->is_string()) fail(source, what + "missing dtype");
  const auto dtype = dtype_from_name(dtype_it->get<std::string>());
  if (!dtype) fail(source, what + "unknown dtype \"" + dtype_it->get<std::string>() + "\"");
  entry.dtype = *dtype;

  const auto shape_it = value.find("shape");
  if (shape_it == value.end() || !shape_it->is_array()) fail(source, what + "missing shape");
  for (const auto& d : *shape_it) {
    if (!d.is_number_integer()) fail(source, what + "shape holds a non-integer");
    if (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(source, what + "dimension too large");
    }
    const auto v = d.get<int64_t>();
    if (v < 0) fail(source, what + "negative dimension " + std::to_string(v));
    entry.shape.push_back(v);
  }

  const auto off_it = value.find("data_offsets");
  if (off_it == value.end() || !off_it->is_array() || off_it->size() != 2) {
    fail(source, what + "data_offsets must be [begin, end]");
  }
  const uint64_t begin = read_offset((*off_it)[0], source, name);
  const uint64_t end = read_offset((*off_it)[1], source, name);
  if (begin > end) {
    fail(source, what + "data_offsets out of order (" + std::to_string(begin) + " > " +
                     std::to_string(end) + ")");
  }
  if (end > data_size) {
    fail(source, what + "data_offsets end " + std::to_string(end) + " is past the end of the data (" +
                     std::to_string(data_size) + " bytes)");
  }
  const auto count = element_count(entry.shape);
  const uint64_t span = end - begin;
  const uint64_t elem = info(entry.dtype).size;
  if (!count || *count > std::numeric_limits<uint64_t>::max() / elem || *count * elem != span) {
    fail(source, what + "shape " + shape_string(entry.shape) + " of " + dtype_name(entry.dtype) +
                     " needs " + (count ? std::to_string(*count * elem) : std::string("too many")) +
                     " bytes but data_offsets span " + std::to_string(span));
  }
  entry.begin = static_cast<std::size_t>(begin);
  entry.end = static_cast<std::size_t>(end);
  return entry;
}

// Every byte of the data section must belong to exactly one tensor.
void check_layout(std::vector<SafetensorsEntry> entries, uint64_t data_size, const std::string& source) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const auto& e : entries) {
    if (e.begin < cursor) {
      fail(source, "tensor \"" + e.name + "\" overlaps tensor \"" + previous->name + "\" (bytes " +
                       std::to_string(e.begin) + " < " + std::to_string(cursor) + ")");
    }
    if (e.begin > cursor) {
      fail(source, "gap of " + std::to_string(e.begin - cursor) + " unused bytes before tensor \"" +
                       e.name + "\" at offset " + std::to_string(cursor));
    }
    cursor = e.end;
    previous = &e;
  }
  if (cursor != data_size) {
    fail(source, std::to_string(data_size - cursor) + " trailing bytes after the last tensor");
  }
}

}  // namespace

std::size_t dtype_size(DType dtype) { return info(dtype).size; }

const char* dtype_name(DType dtype) { return info(dtype).name; }

std::optional<DType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDTypes) {
    if (name == d.name) return d.dtype;
  }
  return std::nullopt;
}

int64_t SafetensorsEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(path, "cannot open the file");
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, "cannot read the file size");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) fail(path, "read error");
  return parse(std::move(bytes), path);
}

SafetensorsFile SafetensorsFile::parse(std::vector<uint8_t> bytes, const std::string& source_name) {
  const std::string& src = source_name;
  if (bytes.size() < 8) {
    fail(src, "the file has " + std::to_string(bytes.size()) + " bytes, fewer than the 8-byte header length");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[static_cast<std::size_t>(i)];
  if (header_len > kMaxHeaderBytes) {
    fail(src, "header length " + std::to_string(header_len) + " is absurd (over 100 MB)");
  }
  if (header_len > bytes.size() - 8) {
    fail(src, "header length " + std::to_string(header_len) + " is past the end of the file (" +
                  std::to_string(bytes.size()) + " bytes)");
  }
  const uint64_t data_size = bytes.size() - 8 - header_len;
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_len));
  } catch (const json::exception& e) {
    fail(src, std::string("the header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(src, "the header is not a JSON object");

  SafetensorsFile file;
  file.source_name_ = src;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(src, "__metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail(src, "__metadata__ value of \"" + mk + "\" is not a string");
        file.metadata_.emplace(mk, mv.get<std::string>());
      }
      continue;
    }
    file.entries_.push_back(parse_entry(key, value, data_size, src));
  }
  check_layout(file.entries_, data_size, src);
  std::sort(file.entries_.begin(), file.entries_.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  file.data_start_ = static_cast<std::size_t>(8 + header_len);
  file.bytes_ = std::move(bytes);
  return file;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const SafetensorsEntry& e, const std::string& n) { return e.name < n; });
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

const uint8_t* SafetensorsFile::data(const SafetensorsEntry& entry) const {
  return bytes_.data() + data_start_ + entry.begin;
}

std::vector<uint8_t> serialize_safetensors(std::vector<SafetensorsTensorView> tensors,
                                           const SafetensorsMetadata& metadata) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    const std::string what = "safetensors writer: tensor \"" + t.name + "\": ";
    if (t.name.empty()) throw ModelError("safetensors writer: a tensor has an empty name");
    if (t.name == "__metadata__") throw ModelError(what + "the name is reserved");
    if (i > 0 && tensors[i - 1].name == t.name) throw ModelError(what + "the name appears twice");
    const auto count = element_count(t.shape);
    if (!count) throw ModelError(what + "invalid shape " + shape_string(t.shape));
    if (*count * dtype_size(t.dtype) != t.num_bytes) {
      throw ModelError(what + "shape " + shape_string(t.shape) + " needs " +
                       std::to_string(*count * dtype_size(t.dtype)) + " bytes, got " +
                       std::to_string(t.num_bytes));
    }
    if (t.num_bytes > 0 && t.data == nullptr) throw ModelError(what + "no data");
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.num_bytes}}};
    offset += t.num_bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    throw ModelError(std::string("safetensors writer: a name or metadata is not valid UTF-8: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + offset);
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& t : tensors) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    if (t.num_bytes > 0) out.insert(out.end(), p, p + t.num_bytes);
  }
  return out;
}

void write_safetensors(const std::string& path, std::vector<SafetensorsTensorView> tensors,
                       const SafetensorsMetadata& metadata) {
  std::vector<uint8_t> bytes;
  try {
    bytes = serialize_safetensors(std::move(tensors), metadata);
  } catch (const ModelError& e) {
    throw ModelError(path + ": " + e.what());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw ModelError("safetensors file " + path + ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw ModelError("safetensors file " + path + ": write error");
}

}  // namespace capfilt::model
