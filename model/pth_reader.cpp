#include "model/pth_reader.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>

#include "model/error.h"
#include "model/pth_pickle.h"
#include "model/zip_archive.h"

namespace capfilt::model {

namespace {

// torch.save writes version 3; PyTorch's own reader takes a few more, which hold nothing new for
// the records read here.
constexpr int64_t kMaxVersion = 10;

std::string trimmed(const ZipArchive::Span& s) {
  std::string t(reinterpret_cast<const char*>(s.data), s.size);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

// The folder every record sits in ("archive" since PyTorch 1.13, the file's stem before).
std::string record_prefix(const ZipArchive& zip, const std::string& label) {
  std::string prefix;
  int found = 0;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && slash > 0 && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      prefix = e.name.substr(0, slash);
      ++found;
    }
  }
  if (found == 0) throw ModelError(label + ": no <archive>/data.pkl record: not a checkpoint written by torch.save");
  if (found > 1) throw ModelError(label + ": more than one data.pkl record");
  return prefix;
}

void check_version(const ZipArchive& zip, const std::string& prefix, const std::string& label) {
  const ZipEntry* v = zip.find(prefix + "/version");
  if (v == nullptr) v = zip.find(prefix + "/.data/version");
  if (v == nullptr) throw ModelError(label + ": the version record is missing");
  const std::string text = trimmed(zip.read(*v));
  const bool digits = !text.empty() && text.size() < 6 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  const int64_t version = digits ? std::stoll(text) : -1;
  if (version < 1 || version > kMaxVersion) {
    throw ModelError(label + ": unsupported serialization version \"" + text.substr(0, 20) + "\"");
  }
}

bool big_endian(const ZipArchive& zip, const std::string& prefix, const std::string& label) {
  const ZipEntry* b = zip.find(prefix + "/byteorder");
  if (b == nullptr) return false;
  const std::string order = trimmed(zip.read(*b));
  if (order == "little") return false;
  if (order == "big") return true;
  throw ModelError(label + ": byteorder record says \"" + order.substr(0, 20) + "\"");
}

void swap_elements(uint8_t* data, uint64_t numel, std::size_t width) {
  for (uint64_t i = 0; i < numel; ++i) std::reverse(data + i * width, data + (i + 1) * width);
}

const PickleValue* dict_entry(const PickleGraph& g, const PickleValue& dict, const std::string& key) {
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PickleValue& k = g.at(dict.items[i]);
    if (k.kind == PickleKind::kString && k.text == key) return &g.at(dict.items[i + 1]);
  }
  return nullptr;
}

}  // namespace

PthStateDict PthStateDict::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw ModelError("PyTorch checkpoint " + path + ": cannot open the file");
  const std::streamoff size = in.tellg();
  if (size < 0) throw ModelError("PyTorch checkpoint " + path + ": cannot read the file size");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw ModelError("PyTorch checkpoint " + path + ": read error");
  }
  return parse(std::move(bytes), path);
}

PthStateDict PthStateDict::parse(std::vector<uint8_t> bytes, const std::string& source_name) {
  const std::string label = "PyTorch checkpoint " + source_name;
  PthStateDict out;
  out.source_name_ = source_name;
  out.bytes_ = std::move(bytes);
  std::vector<uint8_t>& b = out.bytes_;
  if (b.size() >= 2 && b[0] == 0x80 && b[1] == 0x02) {
    throw ModelError(label + ": the legacy (before PyTorch 1.6) checkpoint format, which is not read here;"
                     " load and re-save it with torch.save in a recent PyTorch, or convert it to safetensors");
  }
  const ZipArchive zip(b.data(), b.size(), label);
  const std::string prefix = record_prefix(zip, label);
  check_version(zip, prefix, label);
  const bool swap = big_endian(zip, prefix, label);

  struct Storage {
    const uint8_t* data;
    uint64_t numel;
  };
  std::vector<Storage> storages;
  const StorageResolver resolve = [&](const std::string& key, DType dtype, uint64_t numel) -> std::size_t {
    const std::string name = prefix + "/data/" + key;
    const ZipEntry* e = zip.find(name);
    if (e == nullptr) throw ModelError(label + ": storage \"" + key + "\" has no record " + name);
    const ZipArchive::Span span = zip.read(*e);
    const std::size_t width = dtype_size(dtype);
    if (numel > std::numeric_limits<uint64_t>::max() / width || span.size != numel * width) {
      throw ModelError(label + ": storage \"" + key + "\" should hold " + std::to_string(numel) + " " +
                       dtype_name(dtype) + " elements, its record has " + std::to_string(span.size) + " bytes");
    }
    uint8_t* data = b.data() + (span.data - b.data());
    if (swap && width > 1) swap_elements(data, numel, width);
    if (dtype == DType::kBool && std::any_of(data, data + span.size, [](uint8_t v) { return v > 1; })) {
      throw ModelError(label + ": storage \"" + key + "\" holds a bool that is neither 0 nor 1");
    }
    storages.push_back({data, numel});
    return storages.size() - 1;
  };

  const ZipArchive::Span pkl = zip.read(*zip.find(prefix + "/data.pkl"));
  const PickleGraph g = unpickle_torch(pkl.data, pkl.size, resolve, label);

  const PickleValue* root = &g.at(g.root);
  if (root->kind != PickleKind::kDict) throw ModelError(label + ": the checkpoint is not a dict");
  if (const PickleValue* model = dict_entry(g, *root, "model")) {
    if (model->kind != PickleKind::kDict) throw ModelError(label + ": its \"model\" entry is not a dict");
    root = model;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const PickleValue& k = g.at(root->items[i]);
    const PickleValue& v = g.at(root->items[i + 1]);
    if (k.kind != PickleKind::kString) throw ModelError(label + ": a state dict key is not a string");
    if (v.kind != PickleKind::kTensor) {
      throw ModelError(label + ": state dict entry \"" + k.text + "\" is not a tensor");
    }
    if (!names.insert(k.text).second) throw ModelError(label + ": state dict entry \"" + k.text + "\" appears twice");
    const PickleTensor& t = g.tensors[static_cast<std::size_t>(v.integer)];
    PthTensor pt;
    pt.name = k.text;
    pt.dtype = t.dtype;
    pt.shape = t.shape;
    pt.strides = t.strides;
    pt.offset = t.offset;
    pt.storage = storages[t.storage].data;
    pt.storage_numel = storages[t.storage].numel;
    out.tensors_.push_back(std::move(pt));
  }
  return out;
}

}  // namespace capfilt::model
