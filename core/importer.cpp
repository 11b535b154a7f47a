#include "core/importer.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "core/dataset_readers_internal.h"
#include "core/path_safety.h"
#include "core/text_checks.h"

namespace capfilt::core {

namespace fs = std::filesystem;

const char* image_check_name(ImageCheck check) {
  switch (check) {
    case ImageCheck::kNone:
      return "none";
    case ImageCheck::kHeader:
      return "header";
    case ImageCheck::kDecode:
      return "decode";
  }
  return "?";
}

bool parse_image_check(const std::string& name, ImageCheck* out) {
  for (ImageCheck c : {ImageCheck::kNone, ImageCheck::kHeader, ImageCheck::kDecode}) {
    if (name == image_check_name(c)) {
      *out = c;
      return true;
    }
  }
  return false;
}

fs::path default_dataset_root(const fs::path& source, DatasetFormat format) {
  std::error_code ec;
  if (format == DatasetFormat::kWebDataset) {
    const fs::path folder = fs::is_directory(source, ec) ? source : source.parent_path();
    return (folder.empty() ? fs::path(".") : folder) / "wds-images";
  }
  if (format == DatasetFormat::kFolder || fs::is_directory(source, ec)) return source;
  const fs::path parent = source.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

std::string format_skipped(const std::vector<SkippedEntry>& skipped) {
  std::string out;
  for (const SkippedEntry& s : skipped) {
    // Reasons that already start with their location are not prefixed twice.
    if (s.reason.rfind(s.where, 0) == 0) {
      out += s.reason;
    } else {
      out += s.where + ": " + s.reason;
    }
    out += '\n';
  }
  return out;
}

namespace {

// A 64-bit fingerprint of the file bytes, as hex: tells identical image files apart from different
// ones (re-encoded copies, duplicates under two names) without a crypto library in core/. Mixes
// 8 bytes per step (multiply and fold, as in FNV/Murmur finalisers) so hashing is not the
// bottleneck of an import; the length is mixed in too.
std::string content_hash(const std::vector<std::uint8_t>& bytes) {
  const std::uint64_t k = 0xff51afd7ed558ccdull;
  std::uint64_t h = 0xcbf29ce484222325ull ^ (bytes.size() * k);
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * k;
    h ^= h >> 32;
  }
  for (; i < bytes.size(); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Result<std::vector<std::uint8_t>> read_image_bytes(const fs::path& path, std::int64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error("cannot open " + path.string());
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  bytes.resize(static_cast<std::size_t>(in.gcount()));  // a file shrinking meanwhile reads short
  return bytes;
}

// True when the bytes end as a complete file of `format` must. Catches downloads cut short, which
// a header probe alone cannot see.
bool looks_complete(const std::vector<std::uint8_t>& data, const std::string& format) {
  const std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
  if (format == "jpeg") {
    // The end-of-image marker; scan a window because some writers pad after it. Entropy-coded
    // data never holds FF D9 (0xFF is stuffed), so a cut file has none near its end.
    const std::size_t window = std::min<std::size_t>(bytes.size(), 4096);
    for (std::size_t i = bytes.size() - window; i + 1 < bytes.size(); ++i) {
      if (static_cast<unsigned char>(bytes[i]) == 0xFF &&
          static_cast<unsigned char>(bytes[i + 1]) == 0xD9) {
        return true;
      }
    }
    return false;
  }
  if (format == "png") {
    const std::size_t window = std::min<std::size_t>(bytes.size(), 64);
    return bytes.find("IEND", bytes.size() - window) != std::string_view::npos;
  }
  if (format == "webp" && bytes.size() >= 8) {
    std::uint32_t riff = 0;
    std::memcpy(&riff, bytes.data() + 4, 4);  // little-endian hosts only, as everywhere we build
    return static_cast<std::uint64_t>(riff) + 8 <= bytes.size();
  }
  return true;  // BMP, TIFF: the decoder is the judge (ImageCheck::kDecode)
}

// Checks one image file and fills what the store keeps about it. The error message is a reason
// a curator can act on; the caller adds where the image was named.
Status check_image(const fs::path& root, const std::string& rel, const ImportOptions& options,
                   db::ImageRecord& record) {
  Result<fs::path> path = resolve_inside_root(root, rel);
  if (!path) return path.status();
  std::error_code ec;
  const auto status = fs::status(path.value(), ec);
  if (!fs::exists(status))
    return Status::not_found("image " + rel + " not found under " + root.string());
  if (!fs::is_regular_file(status))
    return Status::invalid("image " + rel + " is not a regular file");
  const auto size = static_cast<std::int64_t>(fs::file_size(path.value(), ec));
  if (ec) return Status::io_error("cannot read the size of image " + rel + ": " + ec.message());
  if (size == 0) return Status::invalid("image " + rel + " is an empty (zero-byte) file");
  if (size > options.limits.max_file_bytes) {
    return Status::invalid("image " + rel + " is " + std::to_string(size) +
                           " bytes, above the limit");
  }
  record.byte_size = size;
  if (options.image_check == ImageCheck::kNone) return Status::ok();

  Result<std::vector<std::uint8_t>> bytes = read_image_bytes(path.value(), size);
  if (!bytes) return bytes.status();
  const std::vector<std::uint8_t>& data = bytes.value();
  Result<ImageInfo> info = probe_image_bytes(data, rel, options.limits);
  if (!info) return info.status();
  if (!looks_complete(data, info->format)) {
    return Status::corrupt("image " + rel + " is truncated (the " + info->format +
                           " data ends early)");
  }
  if (options.image_check == ImageCheck::kDecode) {
    Result<RgbImage> decoded = decode_image_bytes(data, rel, options.limits);
    if (!decoded) return decoded.status();
  }
  record.width = info->width;
  record.height = info->height;
  record.content_hash = content_hash(data);
  return Status::ok();
}

// The records of the dataset grouped by image, in the order images first appear, with every
// record that cannot be stored moved to `skipped`.
struct PendingImage {
  std::string path;  // normalised, relative to the root
  std::string split;
  std::vector<const DatasetRecord*> records;
};

std::vector<PendingImage> group_records(const DatasetContents& contents,
                                        const ImportOptions& options,
                                        std::vector<SkippedEntry>& skipped) {
  std::vector<PendingImage> images;
  std::unordered_map<std::string, std::size_t> index;
  std::unordered_map<std::string, const DatasetRecord*> seen;  // image + '\0' + caption
  for (const DatasetRecord& record : contents.records) {
    Result<std::string> path = normalize_relative_path(record.image);
    if (!path) {
      skipped.push_back({record.where, path.status().message()});
      continue;
    }
    std::size_t bad = 0;
    if (!is_valid_utf8(path.value(), &bad)) {
      // Paths are stored and exported as text (JSON needs UTF-8); rename such files first.
      skipped.push_back({record.where, "image path is not valid UTF-8 (bad byte at offset " +
                                           std::to_string(bad) + ")"});
      continue;
    }
    if (!is_valid_utf8(record.caption, &bad)) {
      skipped.push_back({record.where, "caption is not valid UTF-8 (bad byte at offset " +
                                           std::to_string(bad) + ")"});
      continue;
    }
    const std::string caption = trim_ascii(record.caption);
    if (caption.empty()) {
      skipped.push_back({record.where, "empty caption"});
      continue;
    }
    auto [it, fresh] = seen.emplace(path.value() + '\0' + caption, &record);
    if (!fresh) {
      skipped.push_back(
          {record.where, "duplicate entry: the same image and caption as " + it->second->where});
      continue;
    }
    auto [slot, added] = index.emplace(path.value(), images.size());
    if (added) {
      images.push_back({path.value(), record.split.empty() ? options.split : record.split, {}});
    }
    images[slot->second].records.push_back(&record);
  }
  return images;
}

}  // namespace

namespace {

// One import run: the report it builds and the project it records itself in.
class RunningImport {
 public:
  RunningImport(db::Project& project, const fs::path& source, const ImportOptions& options)
      : project_(project), source_(source), options_(options) {}

  Status begin(DatasetFormat format, const fs::path& root) {
    Result<int64_t> run = project_.begin_import(fs::absolute(source_).string(),
                                                format_name(format), fs::absolute(root).string());
    if (!run) return run.status();
    report_.import_id = run.value();
    return Status::ok();
  }

  // Records the run as failed with `why` as the last line of its report, and returns `why`.
  Status fail(const Status& why) {
    report_.skipped.push_back({source_.filename().string(), why.message()});
    finish("failed");
    return why;
  }

  Status finish(const std::string& status) {
    report_.status = status;
    return project_.finish_import(report_.import_id, status, report_.counts,
                                  static_cast<int64_t>(report_.skipped.size()),
                                  format_skipped(report_.skipped));
  }

  // Checks and stores the images batch by batch, calling back between batches.
  Result<ImportReport> store(const fs::path& root, const std::vector<PendingImage>& images) {
    progress_.records_total = report_.records_read;
    for (const PendingImage& p : images)
      progress_.records_done -= static_cast<std::int64_t>(p.records.size());
    progress_.records_done += report_.records_read;  // records refused before any image check
    const std::size_t batch_size = static_cast<std::size_t>(std::max(1, options_.batch_size));
    std::vector<db::ImageWithCaptions> batch;
    for (std::size_t next = 0; next < images.size();) {
      if (options_.cancelled && options_.cancelled()) {
        if (Status s = finish("cancelled"); !s) return s;
        return report_;
      }
      batch.clear();
      while (next < images.size() && batch.size() < batch_size)
        add_checked(root, images[next++], batch);
      if (!batch.empty()) {
        Result<db::InsertCounts> counts = project_.insert_pairs(batch);
        if (!counts) return fail(counts.status());
        report_.counts += counts.value();
      }
      report_progress();
    }
    if (Status s = finish("completed"); !s) return s;
    return report_;
  }

  ImportReport& report() { return report_; }

 private:
  void add_checked(const fs::path& root, const PendingImage& pending,
                   std::vector<db::ImageWithCaptions>& batch) {
    progress_.records_done += static_cast<std::int64_t>(pending.records.size());
    db::ImageWithCaptions item;
    item.image.path = pending.path;
    item.image.split = pending.split;
    if (Status s = check_image(root, pending.path, options_, item.image); !s) {
      for (const DatasetRecord* r : pending.records)
        report_.skipped.push_back({r->where, s.message()});
      return;
    }
    for (const DatasetRecord* r : pending.records) {
      item.captions.push_back({trim_ascii(r->caption), options_.source, 0});
    }
    batch.push_back(std::move(item));
  }

  void report_progress() {
    if (!options_.progress) return;
    progress_.counts = report_.counts;
    progress_.skipped = static_cast<std::int64_t>(report_.skipped.size());
    options_.progress(progress_);
  }

  db::Project& project_;
  const fs::path& source_;
  const ImportOptions& options_;
  ImportReport report_;
  ImportProgress progress_;
};

}  // namespace

Result<ImportReport> import_dataset(db::Project& project, const fs::path& source,
                                    const ImportOptions& options) {
  // A dataset whose format cannot even be detected (a malformed .json) is still a recorded run.
  DatasetFormat format = options.format;
  Status detected_status;
  if (format == DatasetFormat::kAuto) {
    Result<DatasetFormat> detected = detect_format(source);
    if (detected) format = detected.value();
    detected_status = detected.status();
  }
  const fs::path root =
      options.dataset_root.empty() ? default_dataset_root(source, format) : options.dataset_root;
  RunningImport run(project, source, options);
  if (Status s = run.begin(format, root); !s) return s;
  if (!detected_status) return run.fail(detected_status);

  WebDatasetOptions wds;
  wds.extract_root = root;
  wds.max_member_bytes = options.limits.max_file_bytes;
  Result<DatasetContents> contents = read_dataset(source, format, wds);
  if (!contents) return run.fail(contents.status());
  run.report().records_read = static_cast<std::int64_t>(contents->records.size());
  run.report().skipped = contents->skipped;
  const std::vector<PendingImage> images =
      group_records(contents.value(), options, run.report().skipped);
  return run.store(root, images);
}

}  // namespace capfilt::core
