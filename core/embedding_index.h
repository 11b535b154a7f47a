#pragma once
// A model's ITC embeddings of every image and caption of a project, computed once and kept beside
// the project in <project>.embeddings/<model id>.bin, so the retrieval explorer searches at once
// the next time. The file's header records the model (its path and a stamp of its files) and a
// fingerprint of the project's images and captions; an index whose header differs from the
// present one is stale and is rebuilt. Files are written atomically (a temporary file renamed),
// so a crash or a cancelled build never leaves a half index under the final name.
//
// Torch-free: the model is reached through EvalModel (core/evaluation.h), as `capfilt eval` does.
// Functions are stateless; a Project is used by the calling thread only.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/embedding_search.h"
#include "core/evaluation.h"
#include "db/project.h"
#include "db/status.h"

namespace capfilt::core {

// A project's images and captions in the order for_each_pair walks them (image path, caption id):
// the rows of an index.
struct ProjectItems {
  std::vector<int64_t> image_ids;
  std::vector<std::string> image_paths;   // as stored: relative to the dataset root
  std::vector<std::string> image_splits;
  std::vector<int64_t> caption_ids;
  std::vector<int64_t> caption_image;     // the caption's image, as a row of image_ids
  std::vector<std::string> caption_texts;
  std::vector<db::CaptionSource> caption_sources;
};
Result<ProjectItems> read_project_items(db::Project& project);

// 64-bit FNV-1a over every image (id, path) and caption (id, image, text), in order: any added,
// removed, renamed or edited item changes it. (An image file replaced under the same path does
// not: delete the index file to recompute.)
uint64_t fingerprint(const ProjectItems& items);

// The model's files as they are now: a changed, added or removed file changes the stamp.
struct ModelStamp {
  std::string path;
  int64_t mtime_ns = 0;  // the newest file's modification time (the file itself, for a file)
  int64_t bytes = 0;     // the files' total size
  bool operator==(const ModelStamp& o) const {
    return path == o.path && mtime_ns == o.mtime_ns && bytes == o.bytes;
  }
};
// kNotFound when the path does not exist.
Result<ModelStamp> model_stamp(const std::string& model_path);

struct IndexHeader {
  int64_t model_id = 0;  // the model's row in the project
  ModelStamp model;
  uint64_t data_fingerprint = 0;
};

struct EmbeddingIndex {
  IndexHeader header;
  EmbeddingMatrix images;  // one L2-normalised row per ProjectItems image
  EmbeddingMatrix texts;   // one per caption
};

// <project>.embeddings/<model_id>.bin
std::string embedding_index_path(const std::string& project_path, int64_t model_id);
// Writes path.tmp, then renames it over `path` (creating the folder). kIoError naming the file.
Status save_embedding_index(const EmbeddingIndex& index, const std::string& path);
// kNotFound for no file; kCorrupt for a file that is not a complete index (truncated, foreign).
Result<EmbeddingIndex> load_embedding_index(const std::string& path);
// Why an index with header `stored` does not serve `now` ("the model changed", "the project's
// images or captions changed"); empty when it does.
std::string stale_reason(const IndexHeader& stored, const IndexHeader& now);

struct IndexBuildOptions {
  int batch_size = 16;  // images per model call, as `capfilt eval --batch`
  std::function<void(int64_t done, int64_t total)> progress;  // images + captions; may be empty
  std::function<bool()> cancelled;  // polled between batches; may be empty
};

// Embeds every image (image_files[i] is the file of items.image_paths[i]) and caption.
// kCancelled when `cancelled` said so; the model's failure (an undecodable image) as it is.
Result<EmbeddingIndex> build_embedding_index(const EvalModel& model, const ProjectItems& items,
                                             const std::vector<std::string>& image_files,
                                             const IndexHeader& header,
                                             const IndexBuildOptions& options = {});

struct OpenedIndex {
  EmbeddingIndex index;
  bool reused = false;  // read from the file; false: built (and saved) now
  std::string rebuilt_because;  // why the file was not used ("no index yet", a stale_reason)
};
// The index at `path` when it is current for `header`, else a new one built and saved there.
Result<OpenedIndex> open_or_build_embedding_index(const std::string& path, const EvalModel& model,
                                                  const ProjectItems& items,
                                                  const std::vector<std::string>& image_files,
                                                  const IndexHeader& header,
                                                  const IndexBuildOptions& options = {});

}  // namespace capfilt::core
