#include "core/dataset_readers.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/dataset_readers_internal.h"
#include "core/text_checks.h"

namespace capfilt::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace detail {

Result<std::string> read_file_bytes(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return Status::not_found("no such file: " + file.string());
  if (fs::is_directory(file, ec))
    return Status::invalid(file.string() + " is a folder, not a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::io_error("cannot open " + file.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::io_error("error while reading " + file.string());
  return buffer.str();
}

Result<json> parse_json(const std::string& text, const std::string& name) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based: the byte at which the parser gave up.
    const TextPosition at = position_of(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // Keep only nlohmann's explanation, after its own "parse error at line L, column C: ".
    const auto column = what.find("column ");
    const auto colon = column == std::string::npos ? column : what.find(": ", column);
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Status::corrupt(name + " line " + std::to_string(at.line) + ", column " +
                           std::to_string(at.column) + ": malformed JSON: " + what);
  } catch (const json::exception& e) {
    return Status::corrupt(name + ": malformed JSON: " + e.what());
  }
}

bool caption_strings(const json& value, std::vector<std::string>& out, std::string& why) {
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
    return true;
  }
  if (value.is_array()) {
    for (const json& item : value) {
      if (!item.is_string()) {
        why = "caption list holds a " + std::string(item.type_name()) + ", not text";
        return false;
      }
      out.push_back(item.get<std::string>());
    }
    return true;
  }
  why = "caption is a " + std::string(value.type_name()) + ", not text or a list of texts";
  return false;
}

void append_captions(const json& entry, const json& caption, const std::string& image,
                     const std::string& where, DatasetContents& out) {
  std::vector<std::string> captions;
  std::string why;
  if (!caption_strings(caption, captions, why)) {
    out.skipped.push_back({where, why});
    return;
  }
  const std::string split = string_member(entry, "split");
  for (std::string& c : captions) out.records.push_back({image, std::move(c), split, where});
}

std::string string_member(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const json* first_member(const json& object, std::initializer_list<const char*> keys) {
  if (!object.is_object()) return nullptr;
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it != object.end()) return &*it;
  }
  return nullptr;
}

Status write_file_atomically(const fs::path& target, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec)
    return Status::io_error("cannot create " + target.parent_path().string() + ": " + ec.message());
  const fs::path temp = target.string() + ".part";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::io_error("cannot write " + temp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::io_error("error while writing " + temp.string());
  }
  fs::rename(temp, target, ec);
  if (ec)
    return Status::io_error("cannot rename " + temp.string() + " to " + target.string() + ": " +
                            ec.message());
  return Status::ok();
}

}  // namespace detail

const char* format_name(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::kAuto:
      return "auto";
    case DatasetFormat::kCoco:
      return "coco";
    case DatasetFormat::kKarpathy:
      return "karpathy";
    case DatasetFormat::kBlipJson:
      return "blip";
    case DatasetFormat::kCsv:
      return "csv";
    case DatasetFormat::kJsonl:
      return "jsonl";
    case DatasetFormat::kFolder:
      return "folder";
    case DatasetFormat::kWebDataset:
      return "webdataset";
  }
  return "?";
}

Result<DatasetFormat> parse_format_name(std::string_view name) {
  for (DatasetFormat f : {DatasetFormat::kAuto, DatasetFormat::kCoco, DatasetFormat::kKarpathy,
                          DatasetFormat::kBlipJson, DatasetFormat::kCsv, DatasetFormat::kJsonl,
                          DatasetFormat::kFolder, DatasetFormat::kWebDataset}) {
    if (name == format_name(f)) return f;
  }
  if (name == "tsv") return DatasetFormat::kCsv;
  if (name == "wds" || name == "tar") return DatasetFormat::kWebDataset;
  return Status::invalid("unknown dataset format \"" + std::string(name) +
                         "\" (coco, karpathy, blip, csv, jsonl, folder, webdataset)");
}

namespace {

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

Result<DatasetFormat> detect_format(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && lower_extension(entry.path()) == ".tar") {
        return DatasetFormat::kWebDataset;
      }
    }
    return DatasetFormat::kFolder;
  }
  if (!fs::exists(path, ec)) return Status::not_found("no such file or folder: " + path.string());
  const std::string ext = lower_extension(path);
  if (ext == ".tar") return DatasetFormat::kWebDataset;
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt") return DatasetFormat::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson") return DatasetFormat::kJsonl;
  if (ext != ".json") {
    return Status::unsupported("cannot tell the dataset format of " + path.string() +
                               "; name it with --format");
  }
  Result<std::string> text = detail::read_file_bytes(path);
  if (!text) return text.status();
  Result<json> doc = detail::parse_json(text.value(), path.filename().string());
  if (!doc) return doc.status();
  const json& j = doc.value();
  if (j.is_array()) return DatasetFormat::kBlipJson;
  if (j.is_object() && j.contains("annotations")) return DatasetFormat::kCoco;
  if (j.is_object() && j.contains("images") && j["images"].is_array()) {
    const json& images = j["images"];
    if (!images.empty() && images.front().is_object() && images.front().contains("sentences")) {
      return DatasetFormat::kKarpathy;
    }
  }
  return Status::unsupported(path.string() +
                             " is JSON but neither COCO, Karpathy nor BLIP "
                             "annotations (no top-level list, \"annotations\" or \"sentences\")");
}

Result<DatasetContents> read_dataset(const fs::path& path, DatasetFormat format,
                                     const WebDatasetOptions& webdataset) {
  if (format == DatasetFormat::kAuto) {
    Result<DatasetFormat> detected = detect_format(path);
    if (!detected) return detected.status();
    format = detected.value();
  }
  switch (format) {
    case DatasetFormat::kCoco:
    case DatasetFormat::kKarpathy:
      return read_coco_json(path);
    case DatasetFormat::kBlipJson:
      return read_blip_json(path);
    case DatasetFormat::kCsv:
      return read_csv(path);
    case DatasetFormat::kJsonl:
      return read_jsonl(path);
    case DatasetFormat::kFolder:
      return read_caption_folder(path);
    case DatasetFormat::kWebDataset:
      return read_webdataset(path, webdataset);
    case DatasetFormat::kAuto:
      break;
  }
  return Status::invalid("no dataset format given");
}

}  // namespace capfilt::core
