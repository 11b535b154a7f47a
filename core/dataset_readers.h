#pragma once
// Readers for the dataset layouts curators bring: each turns one dataset into DatasetContents (the
// sound records plus the entries it left out, by file and line or record). Readers only parse;
// the importer (core/importer.h) checks paths, UTF-8, duplicates and images, then writes the
// project. All functions are thread-compatible (no shared state) and never throw.
//
// A file that cannot be parsed at all (unreadable, malformed JSON) is an error Status whose message
// names the file, line and column. A line-based file (CSV, JSONL) with a bad line loses that line
// only; the line is listed in `skipped` with its line and column.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/dataset_record.h"
#include "db/status.h"

namespace capfilt::core {

enum class DatasetFormat {
  kAuto,      // detect_format decides
  kCoco,      // COCO captions JSON: {"images":[{id,file_name}], "annotations":[{image_id,caption}]}
  kKarpathy,  // Karpathy-split JSON: {"images":[{filepath,filename,split,sentences:[{raw}]}]}
  kBlipJson,  // BLIP annotation JSON: [{"image": path, "caption": text or [texts]}]
  kCsv,       // CSV/TSV with a header naming an image and a caption column (RFC 4180 quoting)
  kJsonl,     // one {"image", "caption"} object per line
  kFolder,    // a folder of images, each with a same-named .txt caption beside it
  kWebDataset,  // tar shards of key.jpg + key.txt / key.json (what img2dataset writes)
};

// "coco", "karpathy", "blip", "csv", "jsonl", "folder", "webdataset" (and "auto").
const char* format_name(DatasetFormat format);
Result<DatasetFormat> parse_format_name(std::string_view name);

// Guesses the layout of `path`: a folder holding .tar files is WebDataset, any other folder is a
// caption folder; by extension for .tar, .csv/.tsv, .jsonl; a .json file is looked into (a list is
// BLIP, an object with "annotations" is COCO, one whose images carry "sentences" is Karpathy).
Result<DatasetFormat> detect_format(const std::filesystem::path& path);

Result<DatasetContents> read_coco_json(const std::filesystem::path& file);  // COCO or Karpathy
Result<DatasetContents> read_blip_json(const std::filesystem::path& file);
// `delimiter` 0: tab for .tsv, otherwise sniffed from the header line among ',', '\t' and '|'.
Result<DatasetContents> read_csv(const std::filesystem::path& file, char delimiter = 0);
Result<DatasetContents> read_jsonl(const std::filesystem::path& file);
// Every image under `root` (recursively; symlinked folders are not entered) with a same-named .txt
// beside it; each non-empty line of the .txt is one caption. Record paths are relative to `root`.
Result<DatasetContents> read_caption_folder(const std::filesystem::path& root);

// WebDataset shards are read with libarchive. Images are EXTRACTED, not referenced: the rest of the
// tool (decoding, thumbnails, training) reads plain files, and extraction lets every image be
// validated once at import. Each image member "dir/key.jpg" of "shard-00001.tar" is written to
// <extract_root>/shard-00001/dir/key.jpg (through a temporary file renamed into place, so a killed
// import never leaves half an image under the final name; re-reading rewrites identical bytes) and
// its record's image path is "shard-00001/dir/key.jpg", relative to `extract_root`, which is the
// dataset root the importer is given. A member whose name is absolute or climbs out with "..", a
// link or other non-regular member, and a member larger than `max_member_bytes` is skipped.
struct WebDatasetOptions {
  std::filesystem::path extract_root;
  std::int64_t max_member_bytes = 512ll * 1024 * 1024;
};
// `path` is one .tar shard or a folder of them (read in name order).
Result<DatasetContents> read_webdataset(const std::filesystem::path& path,
                                        const WebDatasetOptions& options);

// Reads `path` in `format` (kAuto: detect_format first). `webdataset` is used for kWebDataset only.
Result<DatasetContents> read_dataset(const std::filesystem::path& path, DatasetFormat format,
                                     const WebDatasetOptions& webdataset = {});

}  // namespace capfilt::core
