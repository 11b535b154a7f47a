#pragma once
// Helpers shared by the dataset readers and writers (core/*_format.cpp). Not part of the public
// API.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/dataset_record.h"
#include "db/status.h"

namespace capfilt::core::detail {

// The whole file as bytes; a missing or unreadable file is kNotFound / kIoError naming it.
Result<std::string> read_file_bytes(const std::filesystem::path& file);

// Parses JSON; a syntax error becomes kCorrupt "<name> line L, column C: <what was expected>".
Result<nlohmann::json> parse_json(const std::string& text, const std::string& name);

// A caption field that is a string or a list of strings (BLIP writes both). Returns false, with
// `why` filled, for any other type; an empty list gives no captions and true.
bool caption_strings(const nlohmann::json& value, std::vector<std::string>& out, std::string& why);

// Appends one record per caption in `caption` (a string or a list) for `image`, with the split
// named by `entry`'s "split" member; a caption field of another type becomes a skipped entry.
void append_captions(const nlohmann::json& entry, const nlohmann::json& caption,
                     const std::string& image, const std::string& where, DatasetContents& out);

// The string member `key` of `object`, or empty when absent or not a string.
std::string string_member(const nlohmann::json& object, const char* key);

// The first of `keys` present in `object`, or nullptr.
const nlohmann::json* first_member(const nlohmann::json& object,
                                   std::initializer_list<const char*> keys);

// Writes `bytes` to `target` through a temporary file beside it that is renamed into place.
Status write_file_atomically(const std::filesystem::path& target, const std::string& bytes);

}  // namespace capfilt::core::detail
