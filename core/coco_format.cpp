// COCO captions JSON and the Karpathy-split JSON (the layout BLIP's own COCO files came from).

#include <string>
#include <unordered_map>

#include "core/dataset_readers.h"
#include "core/dataset_readers_internal.h"

namespace capfilt::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string id_text(const json& id) {
  return id.is_string() ? id.get<std::string>() : id.dump();
}

// {"images":[{"filepath","filename","split","sentences":[{"raw"}]}]}
DatasetContents read_karpathy(const json& doc, const std::string& name) {
  DatasetContents out;
  const json& images = doc["images"];
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string where = name + " images[" + std::to_string(i) + "]";
    const json& image = images[i];
    const std::string filename = detail::string_member(image, "filename");
    if (filename.empty()) {
      out.skipped.push_back({where, "image entry has no \"filename\""});
      continue;
    }
    const std::string filepath = detail::string_member(image, "filepath");
    const std::string path = filepath.empty() ? filename : filepath + "/" + filename;
    const std::string split = detail::string_member(image, "split");
    auto sentences = image.find("sentences");
    if (sentences == image.end() || !sentences->is_array()) {
      out.skipped.push_back({where, "image " + path + " has no \"sentences\" list"});
      continue;
    }
    for (std::size_t k = 0; k < sentences->size(); ++k) {
      const json& sentence = (*sentences)[k];
      const std::string sentence_where = where + ".sentences[" + std::to_string(k) + "]";
      std::string raw = detail::string_member(sentence, "raw");
      if (raw.empty() && sentence.is_string()) raw = sentence.get<std::string>();
      if (raw.empty()) {
        out.skipped.push_back({sentence_where, "sentence has no \"raw\" text"});
        continue;
      }
      out.records.push_back({path, raw, split, sentence_where});
    }
  }
  return out;
}

// {"images":[{"id","file_name"}], "annotations":[{"image_id","caption"}]}
Result<DatasetContents> read_coco(const json& doc, const std::string& name) {
  DatasetContents out;
  struct ImageEntry {
    std::string file_name;
    std::string split;
    bool used = false;
  };
  std::unordered_map<std::string, ImageEntry> by_id;
  const json& images = doc["images"];
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string where = name + " images[" + std::to_string(i) + "]";
    const json& image = images[i];
    const json* id = detail::first_member(image, {"id"});
    const std::string file = detail::string_member(image, "file_name");
    if (!id || file.empty()) {
      out.skipped.push_back({where, "image entry needs an \"id\" and a \"file_name\""});
      continue;
    }
    if (!by_id.emplace(id_text(*id), ImageEntry{file, detail::string_member(image, "split")})
             .second) {
      out.skipped.push_back({where, "duplicate image id " + id_text(*id)});
    }
  }
  const json& annotations = doc["annotations"];
  if (!annotations.is_array()) return Status::invalid(name + ": \"annotations\" is not a list");
  for (std::size_t i = 0; i < annotations.size(); ++i) {
    const std::string where = name + " annotations[" + std::to_string(i) + "]";
    const json& annotation = annotations[i];
    const json* image_id = detail::first_member(annotation, {"image_id"});
    const json* caption = detail::first_member(annotation, {"caption"});
    if (!image_id || !caption) {
      out.skipped.push_back({where, "annotation needs an \"image_id\" and a \"caption\""});
      continue;
    }
    if (!caption->is_string()) {
      out.skipped.push_back(
          {where, "caption is a " + std::string(caption->type_name()) + ", not text"});
      continue;
    }
    auto it = by_id.find(id_text(*image_id));
    if (it == by_id.end()) {
      out.skipped.push_back({where, "image_id " + id_text(*image_id) + " is not in \"images\""});
      continue;
    }
    it->second.used = true;
    out.records.push_back(
        {it->second.file_name, caption->get<std::string>(), it->second.split, where});
  }
  return out;
}

}  // namespace

Result<DatasetContents> read_coco_json(const fs::path& file) {
  Result<std::string> text = detail::read_file_bytes(file);
  if (!text) return text.status();
  const std::string name = file.filename().string();
  Result<json> doc = detail::parse_json(text.value(), name);
  if (!doc) return doc.status();
  const json& j = doc.value();
  if (!j.is_object() || !j.contains("images") || !j["images"].is_array()) {
    return Status::invalid(name + " is not COCO or Karpathy annotations: no \"images\" list");
  }
  if (j.contains("annotations")) return read_coco(j, name);
  return read_karpathy(j, name);
}

}  // namespace capfilt::core
