// libFuzzer target over the Torch-free .pth reader (model/pth_reader.h, model/pth_pickle.h,
// model/zip_archive.h). The first byte picks what the rest is: an odd byte a whole checkpoint (zip
// archive, CRC-checked), an even one a data.pkl stream fed straight to the restricted unpickler (a
// mutated pickle inside an archive would nearly always fail its CRC first). Any exception other than
// ModelError, any sanitizer report or a hang is a bug. Build and run: tests/fuzz/README.md.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/error.h"
#include "model/pth_pickle.h"
#include "model/pth_reader.h"

namespace {

using capfilt::model::ModelError;

// Reads the first and the last element of every view, so that AddressSanitizer sees a view that
// reaches outside its storage.
unsigned touch(const capfilt::model::PthStateDict& file) {
  unsigned sum = 0;
  for (const auto& t : file.tensors()) {
    uint64_t last = static_cast<uint64_t>(t.offset);
    bool empty = false;
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      if (t.shape[d] == 0) empty = true;
      else last += static_cast<uint64_t>(t.shape[d] - 1) * static_cast<uint64_t>(t.strides[d]);
    }
    if (empty) continue;
    const std::size_t width = capfilt::model::dtype_size(t.dtype);
    sum += t.storage[t.offset * width] + t.storage[last * width + width - 1];
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  try {
    if (data[0] & 1) {
      const auto file = capfilt::model::PthStateDict::parse(std::vector<uint8_t>(data + 1, data + size), "fuzz.pth");
      volatile unsigned sink = touch(file);
      (void)sink;
    } else {
      std::size_t storages = 0;
      const capfilt::model::StorageResolver resolve = [&](const std::string&, capfilt::model::DType, uint64_t) {
        return storages++;
      };
      capfilt::model::unpickle_torch(data + 1, size - 1, resolve, "fuzz.pkl");
    }
  } catch (const ModelError&) {
  }
  return 0;
}
