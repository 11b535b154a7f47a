// A folder of images, each with a same-named .txt caption beside it (photo.jpg + photo.txt).

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <system_error>

#include "core/dataset_readers.h"
#include "core/dataset_readers_internal.h"
#include "core/path_safety.h"
#include "core/text_checks.h"

namespace capfilt::core {

namespace fs = std::filesystem;

namespace {

bool is_image_extension(std::string ext) {
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> kImages = {".jpg", ".jpeg", ".png", ".webp",
                                                ".bmp", ".tif",  ".tiff"};
  return kImages.count(ext) > 0;
}

}  // namespace

Result<DatasetContents> read_caption_folder(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return Status::not_found("no such folder: " + root.string());
  // Sorted so that reports and record order do not depend on the file system.
  std::map<std::string, fs::path> images;  // relative path -> absolute
  std::set<std::string> captions;          // relative paths of .txt files
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::io_error("cannot list " + root.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::io_error("cannot list " + root.string() + ": " + ec.message());
    const fs::path& p = it->path();
    const std::string rel = p.lexically_relative(root).generic_string();
    if (is_image_extension(p.extension().string())) {
      images.emplace(rel, p);
    } else if (p.extension() == ".txt") {
      captions.insert(rel);
    }
  }
  DatasetContents out;
  for (const auto& [rel, path] : images) {
    const std::string txt_rel = fs::path(rel).replace_extension(".txt").generic_string();
    if (!captions.erase(txt_rel)) {
      out.skipped.push_back({rel, "image has no caption file " + txt_rel + " beside it"});
      continue;
    }
    // The caption file is read through the same root check as images: a .txt symlinked out of
    // the dataset is not read.
    Result<fs::path> txt_path = resolve_inside_root(root, txt_rel);
    if (!txt_path) {
      out.skipped.push_back({txt_rel, txt_path.status().message()});
      continue;
    }
    Result<std::string> text = detail::read_file_bytes(txt_path.value());
    if (!text) {
      out.skipped.push_back({txt_rel, text.status().message()});
      continue;
    }
    std::size_t line_no = 0, start = 0;
    const std::string& all = text.value();
    bool any = false;
    while (start <= all.size()) {
      ++line_no;
      std::size_t end = all.find('\n', start);
      if (end == std::string::npos) end = all.size();
      std::string caption = trim_ascii(std::string_view(all).substr(start, end - start));
      start = end + 1;
      if (caption.empty()) continue;
      any = true;
      out.records.push_back(
          {rel, std::move(caption), "", txt_rel + " line " + std::to_string(line_no)});
    }
    if (!any) out.skipped.push_back({txt_rel, "caption file is empty"});
  }
  for (const std::string& orphan : captions) {
    out.skipped.push_back({orphan, "caption file has no image beside it"});
  }
  return out;
}

}  // namespace capfilt::core
