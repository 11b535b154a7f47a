// WebDataset tar shards (key.jpg + key.txt / key.json, as img2dataset writes them), read with
// libarchive. See dataset_readers.h for why images are extracted rather than referenced.

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <system_error>

#include "core/dataset_readers.h"
#include "core/dataset_readers_internal.h"
#include "core/path_safety.h"
#include "core/text_checks.h"

namespace capfilt::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

// One sample of a shard: the members sharing a key.
struct Sample {
  std::string image;  // extracted path relative to the extract root
  std::string text;   // key.txt
  std::string json;   // key.json
  std::string where;
  bool has_text = false, has_json = false;
};

// WebDataset's rule: the key is the member path up to the first '.' of its file name.
void split_key(const std::string& member, std::string& key, std::string& extension) {
  const std::size_t slash = member.rfind('/');
  const std::size_t dot = member.find('.', slash == std::string::npos ? 0 : slash + 1);
  key = member.substr(0, dot);
  extension = dot == std::string::npos ? "" : member.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
}

bool is_image_extension(const std::string& ext) {
  static const std::set<std::string> kImages = {"jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"};
  return kImages.count(ext) > 0;
}

Status read_member(archive* a, std::int64_t size, std::string& bytes) {
  bytes.resize(static_cast<std::size_t>(size));
  std::size_t got = 0;
  while (got < bytes.size()) {
    const la_ssize_t n = archive_read_data(a, bytes.data() + got, bytes.size() - got);
    if (n < 0)
      return Status::corrupt(archive_error_string(a) ? archive_error_string(a) : "read error");
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != bytes.size()) return Status::corrupt("member is truncated");
  return Status::ok();
}

// The captions of one sample: key.json first, as it may hold a list (what the exporter writes for
// an image with several); key.txt holds one. img2dataset writes the same caption in both.
// Returns false, with `why`, when the sample has no usable caption.
bool sample_captions(const Sample& sample, const std::string& key, const std::string& shard_name,
                     std::vector<std::string>& captions, std::string& why) {
  if (sample.has_json) {
    Result<json> doc = detail::parse_json(sample.json, shard_name + " member " + key + ".json");
    const json* caption = doc ? detail::first_member(doc.value(), {"caption", "text"}) : nullptr;
    if (!doc) {
      why = doc.status().message();
    } else if (caption && detail::caption_strings(*caption, captions, why)) {
      return true;
    }
    captions.clear();
  }
  if (sample.has_text) {
    captions.push_back(trim_ascii(sample.text));
    return true;
  }
  if (why.empty()) why = "image has no " + key + ".txt or " + key + ".json caption";
  return false;
}

void emit_records(const std::map<std::string, Sample>& samples, const std::string& shard_name,
                  DatasetContents& out) {
  for (const auto& [key, sample] : samples) {
    const std::string where = sample.where.empty() ? shard_name + " key " + key : sample.where;
    if (sample.image.empty()) {
      out.skipped.push_back({where, "sample has a caption but no image"});
      continue;
    }
    std::vector<std::string> captions;
    std::string why;
    if (!sample_captions(sample, key, shard_name, captions, why)) {
      out.skipped.push_back({where, why});
      continue;
    }
    for (std::string& c : captions) out.records.push_back({sample.image, std::move(c), "", where});
  }
}

Status read_shard(const fs::path& shard, const WebDatasetOptions& options, DatasetContents& out) {
  const std::string shard_name = shard.filename().string();
  const std::string stem = shard.stem().string();
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_filter_all(a.get());  // .tar.gz shards too
  if (archive_read_open_filename(a.get(), shard.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Status::corrupt(shard_name + ": not a readable tar file: " +
                           (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  }
  std::map<std::string, Sample> samples;  // by key, sorted for a stable order
  archive_entry* entry = nullptr;
  std::size_t index = 0;
  std::string bytes;
  while (true) {
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      out.skipped.push_back(
          {shard_name + " member " + std::to_string(index + 1),
           "the rest of the shard is unreadable: " +
               std::string(archive_error_string(a.get()) ? archive_error_string(a.get()) : "?")});
      break;
    }
    ++index;
    const char* raw_name = archive_entry_pathname(entry);
    const std::string member = raw_name ? raw_name : "";
    const std::string where = shard_name + " member " + member;
    if (archive_entry_filetype(entry) == AE_IFDIR) continue;
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) {
      out.skipped.push_back({where, "not a regular file (a link or device); not extracted"});
      continue;
    }
    Result<std::string> normal = normalize_relative_path(member);
    if (!normal) {
      out.skipped.push_back({where, "tar member escapes the shard: " + normal.status().message()});
      continue;
    }
    std::string key, ext;
    split_key(normal.value(), key, ext);
    const bool is_image = is_image_extension(ext);
    if (!is_image && ext != "txt" && ext != "json") continue;  // other modalities are not ours
    if (archive_entry_size(entry) > options.max_member_bytes) {
      out.skipped.push_back({where, "member is " + std::to_string(archive_entry_size(entry)) +
                                        " bytes, above the limit"});
      continue;
    }
    if (Status s = read_member(a.get(), archive_entry_size(entry), bytes); !s) {
      out.skipped.push_back({where, s.message()});
      continue;
    }
    Sample& sample = samples[key];
    if (is_image) {
      const std::string rel = stem + "/" + normal.value();
      Result<fs::path> target = resolve_inside_root(options.extract_root, rel);
      if (!target) {
        out.skipped.push_back({where, target.status().message()});
        continue;
      }
      if (Status s = detail::write_file_atomically(target.value(), bytes); !s) return s;
      if (!sample.image.empty()) {
        out.skipped.push_back({where, "second image for key " + key + "; the first is kept"});
        continue;
      }
      sample.image = rel;
      sample.where = where;
    } else if (ext == "txt") {
      sample.text = bytes;
      sample.has_text = true;
    } else {
      sample.json = bytes;
      sample.has_json = true;
    }
  }
  emit_records(samples, shard_name, out);
  return Status::ok();
}

}  // namespace

Result<DatasetContents> read_webdataset(const fs::path& path, const WebDatasetOptions& options) {
  if (options.extract_root.empty()) {
    return Status::invalid("WebDataset import needs a folder to extract images into");
  }
  std::error_code ec;
  std::vector<fs::path> shards;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() &&
          (name.size() > 4 &&
           (name.substr(name.size() - 4) == ".tar" || name.find(".tar.") != std::string::npos))) {
        shards.push_back(entry.path());
      }
    }
    std::sort(shards.begin(), shards.end());
    if (shards.empty()) return Status::not_found("no .tar shards in " + path.string());
  } else if (fs::exists(path, ec)) {
    shards.push_back(path);
  } else {
    return Status::not_found("no such shard: " + path.string());
  }
  DatasetContents out;
  for (const fs::path& shard : shards) {
    if (Status s = read_shard(shard, options, out); !s) {
      if (s.code() == Status::Code::kIoError) return s;  // cannot extract: stop, nothing recorded
      out.skipped.push_back({shard.filename().string(), s.message()});
    }
  }
  return out;
}

}  // namespace capfilt::core
