#include "core/exporter.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/dataset_readers_internal.h"
#include "core/path_safety.h"

namespace capfilt::core {

namespace fs = std::filesystem;
using nlohmann::json;

const char* export_format_name(ExportFormat format) {
  switch (format) {
    case ExportFormat::kBlipJson:
      return "blip";
    case ExportFormat::kCoco:
      return "coco";
    case ExportFormat::kCsv:
      return "csv";
    case ExportFormat::kWebDataset:
      return "webdataset";
  }
  return "?";
}

Result<ExportFormat> parse_export_format(const std::string& name) {
  for (ExportFormat f : {ExportFormat::kBlipJson, ExportFormat::kCoco, ExportFormat::kCsv,
                         ExportFormat::kWebDataset}) {
    if (name == export_format_name(f)) return f;
  }
  if (name == "wds") return ExportFormat::kWebDataset;
  return Status::invalid("unknown export format \"" + name + "\" (blip, coco, csv, webdataset)");
}

std::string ExportSelection::describe() const {
  std::vector<std::string> parts;
  if (kept_web) parts.push_back(undecided ? "kept or undecided web" : "kept web");
  if (kept_synthetic) parts.push_back(undecided ? "kept or undecided synthetic" : "kept synthetic");
  if (human) parts.push_back("human (not dropped)");
  if (parts.empty()) return "nothing";
  std::string out = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) out += " + " + parts[i];
  if (!split.empty()) out += ", split " + split;
  return out;
}

bool ExportSelection::selects(const db::PairRow& pair) const {
  if (!split.empty() && pair.image.split != split) return false;
  const db::Decision d = pair.decision;
  switch (pair.caption.source) {
    case db::CaptionSource::kHuman:
      return human && d != db::Decision::kDrop;
    case db::CaptionSource::kWeb:
      return kept_web && (d == db::Decision::kKeep || (undecided && d == db::Decision::kUndecided));
    case db::CaptionSource::kSynthetic:
      return kept_synthetic &&
             (d == db::Decision::kKeep || (undecided && d == db::Decision::kUndecided));
  }
  return false;
}

namespace {

// An image and its selected captions; pairs arrive ordered by image path, so one image's captions
// are adjacent.
struct ExportImage {
  db::ImageRecord image;
  std::vector<db::PairRow> pairs;
};

// The importer stores only UTF-8, but a project may hold text from elsewhere: never let a stray
// byte throw out of nlohmann's dump; it becomes U+FFFD.
std::string dump_json(const json& value) {
  return value.dump(1, ' ', false, json::error_handler_t::replace);
}

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

struct ArchiveWriterCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

// Writes WebDataset shards: ustar members with fixed times so an export is reproducible.
class ShardWriter {
 public:
  ShardWriter(fs::path folder, int shard_size)
      : folder_(std::move(folder)), shard_size_(shard_size) {}

  Status add(const std::string& key, const std::string& image_ext, const std::string& image_bytes,
             const std::string& caption, const std::string& json_text) {
    if (!writer_ || in_shard_ >= shard_size_) {
      if (Status s = close(); !s) return s;
      if (Status s = open_next(); !s) return s;
    }
    for (const auto& [name, bytes] :
         {std::pair<std::string, const std::string*>{key + "." + image_ext, &image_bytes},
          {key + ".txt", &caption},
          {key + ".json", &json_text}}) {
      if (Status s = write_member(name, *bytes); !s) return s;
    }
    ++in_shard_;
    return Status::ok();
  }

  // Finishes the open shard and renames it into place.
  Status close() {
    if (!writer_) return Status::ok();
    const bool ok = archive_write_close(writer_.get()) == ARCHIVE_OK;
    writer_.reset();
    if (!ok) return Status::io_error("cannot finish " + part_.string());
    std::error_code ec;
    fs::rename(part_, final_, ec);
    if (ec) return Status::io_error("cannot rename " + part_.string() + ": " + ec.message());
    files_.push_back(final_);
    return Status::ok();
  }

  const std::vector<fs::path>& files() const { return files_; }

 private:
  Status open_next() {
    char name[32];
    std::snprintf(name, sizeof name, "shard-%06d.tar", shard_index_++);
    final_ = folder_ / name;
    part_ = final_.string() + ".part";
    writer_.reset(archive_write_new());
    archive_write_set_format_ustar(writer_.get());
    if (archive_write_open_filename(writer_.get(), part_.c_str()) != ARCHIVE_OK) {
      return Status::io_error("cannot write " + part_.string() + ": " +
                              archive_error_string(writer_.get()));
    }
    in_shard_ = 0;
    return Status::ok();
  }

  Status write_member(const std::string& name, const std::string& bytes) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_mtime(entry.get(), 0, 0);
    if (archive_write_header(writer_.get(), entry.get()) != ARCHIVE_OK ||
        archive_write_data(writer_.get(), bytes.data(), bytes.size()) !=
            static_cast<la_ssize_t>(bytes.size())) {
      return Status::io_error("cannot write " + name + " into " + part_.string() + ": " +
                              archive_error_string(writer_.get()));
    }
    return Status::ok();
  }

  fs::path folder_;
  int shard_size_;
  int shard_index_ = 0;
  int in_shard_ = 0;
  fs::path part_, final_;
  std::unique_ptr<archive, ArchiveWriterCloser> writer_;
  std::vector<fs::path> files_;
};

Status collect(db::Project& project, const ExportOptions& options,
               std::vector<ExportImage>& images) {
  std::int64_t seen = 0;
  return project.for_each_pair(db::PairFilter{}, [&](const db::PairRow& pair) -> Status {
    if (++seen % 10000 == 0 && options.cancelled && options.cancelled()) {
      return Status::cancelled("export cancelled");
    }
    if (!options.selection.selects(pair)) return Status::ok();
    if (images.empty() || images.back().image.path != pair.image.path)
      images.push_back({pair.image, {}});
    images.back().pairs.push_back(pair);
    return Status::ok();
  });
}

std::string shown_path(const ExportOptions& options, const std::string& rel) {
  return options.absolute_paths ? (fs::absolute(options.dataset_root) / rel).string() : rel;
}

json manifest(db::Project& project, const ExportOptions& options, const ExportReport& report) {
  return json{{"capfilt_export", export_format_name(options.format)},
              {"contains", report.contents},
              {"selection",
               {{"kept_web", options.selection.kept_web},
                {"kept_synthetic", options.selection.kept_synthetic},
                {"human", options.selection.human},
                {"undecided", options.selection.undecided},
                {"split", options.selection.split}}},
              {"pairs", report.pairs},
              {"images", report.images},
              {"project", project.path()}};
}

std::string export_blip(const std::vector<ExportImage>& images, const ExportOptions& options) {
  json out = json::array();
  for (const ExportImage& image : images) {
    for (const db::PairRow& pair : image.pairs) {
      out.push_back(
          {{"image", shown_path(options, image.image.path)}, {"caption", pair.caption.text}});
    }
  }
  return dump_json(out);
}

std::string export_coco(const std::vector<ExportImage>& images, const ExportOptions& options,
                        const json& info) {
  json out{{"info", info}, {"images", json::array()}, {"annotations", json::array()}};
  std::int64_t annotation_id = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const ExportImage& image = images[i];
    json entry{{"id", i + 1}, {"file_name", shown_path(options, image.image.path)}};
    if (image.image.width > 0) entry["width"] = image.image.width;
    if (image.image.height > 0) entry["height"] = image.image.height;
    if (!image.image.split.empty()) entry["split"] = image.image.split;
    out["images"].push_back(std::move(entry));
    for (const db::PairRow& pair : image.pairs) {
      out["annotations"].push_back({{"id", ++annotation_id},
                                    {"image_id", i + 1},
                                    {"caption", pair.caption.text},
                                    {"source", db::to_string(pair.caption.source)}});
    }
  }
  return dump_json(out);
}

std::string export_csv(const std::vector<ExportImage>& images, const ExportOptions& options) {
  std::string out = "image,caption,source,split\r\n";
  for (const ExportImage& image : images) {
    for (const db::PairRow& pair : image.pairs) {
      out += csv_field(shown_path(options, image.image.path)) + "," + csv_field(pair.caption.text) +
             "," + db::to_string(pair.caption.source) + "," + csv_field(image.image.split) + "\r\n";
    }
  }
  return out;
}

Status export_webdataset(const std::vector<ExportImage>& images, const fs::path& folder,
                         const ExportOptions& options, ExportReport& report) {
  if (options.dataset_root.empty()) {
    return Status::invalid("a WebDataset export needs the dataset root to read the images from");
  }
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return Status::io_error("cannot create " + folder.string() + ": " + ec.message());
  ShardWriter shards(folder, std::max(1, options.shard_size));
  std::int64_t index = 0;
  for (const ExportImage& image : images) {
    if (options.cancelled && index % 100 == 0 && options.cancelled())
      return Status::cancelled("export cancelled");
    Result<fs::path> path = resolve_inside_root(options.dataset_root, image.image.path);
    Result<std::string> bytes =
        path ? detail::read_file_bytes(path.value()) : Result<std::string>(path.status());
    if (!bytes) {
      report.skipped.push_back({image.image.path, bytes.status().message()});
      continue;
    }
    std::string ext = fs::path(image.image.path).extension().string();
    ext = ext.empty() ? "jpg" : ext.substr(1);
    char key[16];
    std::snprintf(key, sizeof key, "%09lld", static_cast<long long>(index++));
    json captions = json::array();
    for (const db::PairRow& pair : image.pairs) captions.push_back(pair.caption.text);
    json meta{{"caption", image.pairs.size() == 1 ? json(image.pairs[0].caption.text) : captions},
              {"source", db::to_string(image.pairs[0].caption.source)},
              {"image", image.image.path},
              {"split", image.image.split}};
    if (Status s =
            shards.add(key, ext, bytes.value(), image.pairs[0].caption.text, dump_json(meta));
        !s)
      return s;
    report.pairs += static_cast<std::int64_t>(image.pairs.size());
    ++report.images;
    if (options.progress) options.progress(report.pairs);
  }
  if (Status s = shards.close(); !s) return s;
  report.files = shards.files();
  return Status::ok();
}

}  // namespace

Result<ExportReport> export_dataset(db::Project& project, const fs::path& output,
                                    const ExportOptions& options) {
  std::vector<ExportImage> images;
  if (Status s = collect(project, options, images); !s) return s;
  ExportReport report;
  report.contents = options.selection.describe();
  fs::path manifest_path;
  if (options.format == ExportFormat::kWebDataset) {
    if (Status s = export_webdataset(images, output, options, report); !s) return s;
    manifest_path = output / "capfilt.json";
  } else {
    for (const ExportImage& image : images) {
      report.pairs += static_cast<std::int64_t>(image.pairs.size());
      ++report.images;
    }
    std::string text;
    switch (options.format) {
      case ExportFormat::kBlipJson:
        text = export_blip(images, options);
        break;
      case ExportFormat::kCoco:
        text = export_coco(images, options, manifest(project, options, report));
        break;
      case ExportFormat::kCsv:
        text = export_csv(images, options);
        break;
      case ExportFormat::kWebDataset:
        break;
    }
    if (Status s = detail::write_file_atomically(output, text); !s) return s;
    report.files.push_back(output);
    if (options.progress) options.progress(report.pairs);
    manifest_path = output.string() + ".capfilt.json";
  }
  json m = manifest(project, options, report);
  if (!report.skipped.empty()) m["skipped"] = report.skipped.size();
  if (Status s = detail::write_file_atomically(manifest_path, dump_json(m) + "\n"); !s) return s;
  report.files.push_back(manifest_path);
  return report;
}

}  // namespace capfilt::core
