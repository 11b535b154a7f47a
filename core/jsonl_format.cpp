// JSON Lines: one {"image", "caption"} object per line. A bad line loses that line only.

#include "core/dataset_readers.h"
#include "core/dataset_readers_internal.h"
#include "core/text_checks.h"

namespace capfilt::core {

namespace fs = std::filesystem;
using nlohmann::json;

Result<DatasetContents> read_jsonl(const fs::path& file) {
  Result<std::string> text = detail::read_file_bytes(file);
  if (!text) return text.status();
  const std::string name = file.filename().string();
  const std::string& all = text.value();
  DatasetContents out;
  std::size_t start = 0;
  for (std::size_t line_no = 1; start < all.size(); ++line_no) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos) end = all.size();
    const std::string line = all.substr(start, end - start);
    start = end + 1;
    if (trim_ascii(line).empty()) continue;
    const std::string where = name + " line " + std::to_string(line_no);
    Result<json> doc = detail::parse_json(line, where);
    if (!doc) {
      // parse_json names "line 1" of the single line; say the real line.
      std::string message = doc.status().message();
      const std::string prefix = where + " line 1, ";
      if (message.rfind(prefix, 0) == 0) message = where + ", " + message.substr(prefix.size());
      out.skipped.push_back({where, message});
      continue;
    }
    const json& entry = doc.value();
    const json* image = detail::first_member(entry, {"image", "file_name", "filename", "path"});
    const json* caption = detail::first_member(entry, {"caption", "text"});
    if (!image || !image->is_string() || !caption) {
      out.skipped.push_back({where, "line needs an \"image\" path and a \"caption\""});
      continue;
    }
    detail::append_captions(entry, *caption, image->get<std::string>(), where, out);
  }
  return out;
}

}  // namespace capfilt::core
