// BLIP's annotation JSON, a list of {"image": path, "caption": text or [texts]} — the layout of
// BLIP's pre-training files (ccs_filtered.json and the like) and of its COCO Karpathy copies.

#include "core/dataset_readers.h"
#include "core/dataset_readers_internal.h"

namespace capfilt::core {

namespace fs = std::filesystem;
using nlohmann::json;

Result<DatasetContents> read_blip_json(const fs::path& file) {
  Result<std::string> text = detail::read_file_bytes(file);
  if (!text) return text.status();
  const std::string name = file.filename().string();
  Result<json> doc = detail::parse_json(text.value(), name);
  if (!doc) return doc.status();
  if (!doc->is_array()) {
    return Status::invalid(name + " is not BLIP annotations: the top level is a " +
                           std::string(doc->type_name()) + ", not a list");
  }
  DatasetContents out;
  const json& list = doc.value();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = name + " record " + std::to_string(i + 1);
    const json& entry = list[i];
    const std::string image = detail::string_member(entry, "image");
    const json* caption = detail::first_member(entry, {"caption", "text"});
    if (image.empty() || !caption) {
      out.skipped.push_back({where, "record needs an \"image\" path and a \"caption\""});
      continue;
    }
    detail::append_captions(entry, *caption, image, where, out);
  }
  return out;
}

}  // namespace capfilt::core
