// The per-model embedding index beside a project (core/embedding_index.h).
//
// File layout (little-endian, as the machine writes it; the magic rejects a foreign file):
//   "CAPFEMB1"  u32 version  i64 model_id  u32 path_len  path  i64 mtime_ns  i64 bytes
//   u64 fingerprint  i64 images  i64 texts  i64 dim  f32[images·dim]  f32[texts·dim]

#include "core/embedding_index.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace capfilt::core {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'C', 'A', 'P', 'F', 'E', 'M', 'B', '1'};
constexpr uint32_t kVersion = 1;

struct Fnv {
  uint64_t h = 14695981039346656037ull;
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
  }
  void num(int64_t v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    num(static_cast<int64_t>(s.size()));
    bytes(s.data(), s.size());
  }
};

int64_t mtime_ns(const fs::path& p) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             fs::last_write_time(p).time_since_epoch())
      .count();
}

template <typename T>
void put(std::ostream& out, const T& v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
bool get(std::istream& in, T* v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(v), sizeof *v));
}

EmbeddingMatrix to_matrix(std::vector<std::vector<float>> rows, int64_t dim) {
  EmbeddingMatrix m;
  m.rows = static_cast<int64_t>(rows.size());
  m.dim = dim;
  m.values.reserve(static_cast<size_t>(m.rows * dim));
  for (auto& r : rows) m.values.insert(m.values.end(), r.begin(), r.end());
  return m;
}

}  // namespace

Result<ProjectItems> read_project_items(db::Project& project) {
  ProjectItems items;
  Status s = project.for_each_pair({}, [&](const db::PairRow& row) {
    if (items.image_ids.empty() || items.image_ids.back() != row.image_id) {
      items.image_ids.push_back(row.image_id);
      items.image_paths.push_back(row.image.path);
      items.image_splits.push_back(row.image.split);
    }
    items.caption_ids.push_back(row.caption_id);
    items.caption_image.push_back(static_cast<int64_t>(items.image_ids.size()) - 1);
    items.caption_texts.push_back(row.caption.text);
    items.caption_sources.push_back(row.caption.source);
    return Status::ok();
  });
  if (!s) return s;
  return items;
}

uint64_t fingerprint(const ProjectItems& items) {
  Fnv f;
  f.num(static_cast<int64_t>(items.image_ids.size()));
  for (size_t i = 0; i < items.image_ids.size(); ++i) {
    f.num(items.image_ids[i]);
    f.str(items.image_paths[i]);
  }
  f.num(static_cast<int64_t>(items.caption_ids.size()));
  for (size_t c = 0; c < items.caption_ids.size(); ++c) {
    f.num(items.caption_ids[c]);
    f.num(items.caption_image[c]);
    f.str(items.caption_texts[c]);
  }
  return f.h;
}

Result<ModelStamp> model_stamp(const std::string& model_path) {
  std::error_code ec;
  const fs::path p(model_path);
  if (!fs::exists(p, ec)) return Status::not_found(model_path + ": no such model file or folder");
  ModelStamp stamp;
  stamp.path = fs::absolute(p, ec).lexically_normal().string();
  try {
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p)) {
        if (!e.is_regular_file()) continue;
        stamp.mtime_ns = std::max(stamp.mtime_ns, mtime_ns(e.path()));
        stamp.bytes += static_cast<int64_t>(e.file_size());
      }
    } else {
      stamp.mtime_ns = mtime_ns(p);
      stamp.bytes = static_cast<int64_t>(fs::file_size(p));
    }
  } catch (const fs::filesystem_error& e) {
    return Status::io_error(model_path + ": cannot read the model's files: " + e.what());
  }
  return stamp;
}

std::string embedding_index_path(const std::string& project_path, int64_t model_id) {
  return project_path + ".embeddings/" + std::to_string(model_id) + ".bin";
}

Status save_embedding_index(const EmbeddingIndex& index, const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kMagic, sizeof kMagic);
    put(out, kVersion);
    const IndexHeader& h = index.header;
    put(out, h.model_id);
    put(out, static_cast<uint32_t>(h.model.path.size()));
    out.write(h.model.path.data(), static_cast<std::streamsize>(h.model.path.size()));
    put(out, h.model.mtime_ns);
    put(out, h.model.bytes);
    put(out, h.data_fingerprint);
    put(out, index.images.rows);
    put(out, index.texts.rows);
    put(out, index.images.dim);
    for (const EmbeddingMatrix* m : {&index.images, &index.texts}) {
      out.write(reinterpret_cast<const char*>(m->values.data()),
                static_cast<std::streamsize>(m->values.size() * sizeof(float)));
    }
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      return Status::io_error(path + ": cannot write the embedding index (disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::io_error(path + ": cannot put the embedding index in place: " + ec.message());
  }
  return Status::ok();
}

Result<EmbeddingIndex> load_embedding_index(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(path + ": no embedding index");
  const Status corrupt = Status::corrupt(path + ": not a complete embedding index (delete it; it "
                                                "is rebuilt on the next search)");
  char magic[8];
  uint32_t version = 0, path_len = 0;
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0 ||
      !get(in, &version) || version != kVersion) {
    return corrupt;
  }
  EmbeddingIndex index;
  IndexHeader& h = index.header;
  if (!get(in, &h.model_id) || !get(in, &path_len) || path_len > 1 << 16) return corrupt;
  h.model.path.resize(path_len);
  int64_t images = 0, texts = 0, dim = 0;
  if (!in.read(h.model.path.data(), path_len) || !get(in, &h.model.mtime_ns) ||
      !get(in, &h.model.bytes) || !get(in, &h.data_fingerprint) || !get(in, &images) ||
      !get(in, &texts) || !get(in, &dim) || images < 0 || texts < 0 || dim < 0) {
    return corrupt;
  }
  // The rest of the file must be exactly the two matrices.
  const auto here = in.tellg();
  in.seekg(0, std::ios::end);
  const auto expected = static_cast<int64_t>(here) + (images + texts) * dim * 4;
  if (static_cast<int64_t>(in.tellg()) != expected) return corrupt;
  in.seekg(here);
  for (auto [m, rows] : {std::pair{&index.images, images}, std::pair{&index.texts, texts}}) {
    m->rows = rows;
    m->dim = dim;
    m->values.resize(static_cast<size_t>(rows * dim));
    if (!in.read(reinterpret_cast<char*>(m->values.data()),
                 static_cast<std::streamsize>(m->values.size() * sizeof(float)))) {
      return corrupt;
    }
  }
  return index;
}

std::string stale_reason(const IndexHeader& stored, const IndexHeader& now) {
  if (stored.model_id != now.model_id || stored.model.path != now.model.path)
    return "the index was made with another model";
  if (!(stored.model == now.model)) return "the model's files changed since the index was made";
  if (stored.data_fingerprint != now.data_fingerprint)
    return "the project's images or captions changed since the index was made";
  return {};
}

Result<EmbeddingIndex> build_embedding_index(const EvalModel& model, const ProjectItems& items,
                                             const std::vector<std::string>& image_files,
                                             const IndexHeader& header,
                                             const IndexBuildOptions& options) {
  if (image_files.size() != items.image_ids.size())
    return Status::invalid("embedding index: one image file is needed per image");
  const auto n_images = static_cast<int64_t>(image_files.size());
  const int64_t total = n_images + static_cast<int64_t>(items.caption_texts.size());
  auto step = [&](int64_t offset) {
    return [&, offset](int64_t done) {
      if (options.progress) options.progress(offset + done, total);
      return !(options.cancelled && options.cancelled());
    };
  };
  auto image_emb = embed_images(model, image_files, options.batch_size, step(0));
  if (!image_emb) return image_emb.status();
  auto text_emb = embed_texts(model, items.caption_texts, options.batch_size, step(n_images));
  if (!text_emb) return text_emb.status();
  int64_t dim = 0;
  if (!image_emb->empty()) dim = static_cast<int64_t>(image_emb->front().size());
  else if (!text_emb->empty()) dim = static_cast<int64_t>(text_emb->front().size());
  for (const auto* rows : {&image_emb.value(), &text_emb.value()}) {
    for (const auto& r : *rows) {
      if (static_cast<int64_t>(r.size()) != dim)
        return Status::invalid("embedding index: the model's embeddings differ in size");
    }
  }
  EmbeddingIndex index;
  index.header = header;
  index.images = to_matrix(std::move(image_emb).value(), dim);
  index.texts = to_matrix(std::move(text_emb).value(), dim);
  return index;
}

Result<OpenedIndex> open_or_build_embedding_index(const std::string& path, const EvalModel& model,
                                                  const ProjectItems& items,
                                                  const std::vector<std::string>& image_files,
                                                  const IndexHeader& header,
                                                  const IndexBuildOptions& options) {
  OpenedIndex out;
  auto stored = load_embedding_index(path);
  if (stored) {
    out.rebuilt_because = stale_reason(stored->header, header);
    if (out.rebuilt_because.empty() &&
        stored->images.rows == static_cast<int64_t>(items.image_ids.size()) &&
        stored->texts.rows == static_cast<int64_t>(items.caption_ids.size())) {
      out.index = std::move(stored).value();
      out.reused = true;
      return out;
    }
  } else {
    out.rebuilt_because = stored.status().code() == Status::Code::kNotFound
                              ? "no index yet"
                              : stored.status().message();
  }
  auto built = build_embedding_index(model, items, image_files, header, options);
  if (!built) return built.status();
  Status saved = save_embedding_index(built.value(), path);
  if (!saved) return saved;
  out.index = std::move(built).value();
  return out;
}

}  // namespace capfilt::core
