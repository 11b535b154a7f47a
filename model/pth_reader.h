#pragma once
// Reader for the state dict in a PyTorch checkpoint (.pth, the zip archive torch.save writes since
// PyTorch 1.6), without Torch and without PyTorch's unpickler, so it reads the same on every
// LibTorch and never runs code from the file (the idea of torch.load(weights_only=True)):
//
//   <prefix>/data.pkl       the pickled object (model/pth_pickle.h: restricted, allow-listed)
//   <prefix>/data/<key>     one record per storage, raw elements
//   <prefix>/version        the serialization version (or <prefix>/.data/version)
//   <prefix>/byteorder      "little" or "big" (absent: little, as before PyTorch 2.1 wrote it)
//
// The object must be a dict whose "model" entry is the state dict, as Salesforce BLIP publishes
// its checkpoints, or the state dict itself; other entries (optimizer, config, epoch) are read by
// the same restricted rules and ignored. Every state dict value must be a tensor.
//
// Strict: a truncated or damaged archive, a storage past the archive's end, an unexpected global, a
// view that does not fit its storage or containers nested too deep each throw ModelError naming the
// file and the problem. Reads the whole file into memory; a PthStateDict is immutable once read and
// may be shared between threads.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/safetensors.h"  // DType

namespace capfilt::model {

// One state dict entry: a strided view of a storage, sizes and strides in elements.
struct PthTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  int64_t offset = 0;             // in elements, into the storage
  const uint8_t* storage = nullptr;  // little-endian elements, not necessarily aligned; lives as long as the PthStateDict
  uint64_t storage_numel = 0;
};

class PthStateDict {
 public:
  // Reads and validates `path`.
  static PthStateDict read(const std::string& path);
  // Validates bytes already in memory; `source_name` names them in error messages.
  static PthStateDict parse(std::vector<uint8_t> bytes, const std::string& source_name);

  PthStateDict(PthStateDict&&) = default;
  PthStateDict& operator=(PthStateDict&&) = default;
  PthStateDict(const PthStateDict&) = delete;
  PthStateDict& operator=(const PthStateDict&) = delete;

  const std::string& source_name() const { return source_name_; }
  // In the checkpoint's order (names are unique).
  const std::vector<PthTensor>& tensors() const { return tensors_; }

 private:
  PthStateDict() = default;
  std::string source_name_;
  std::vector<uint8_t> bytes_;
  std::vector<PthTensor> tensors_;
};

}  // namespace capfilt::model
