#pragma once
// A restricted unpickler for the data.pkl of a torch.save archive, without Torch. It interprets
// only the opcodes the pickle protocols 2-5 use for plain data (None, bools, ints, floats, strings,
// bytes, tuples, lists, dicts), persistent ids (torch's storages) and calls of an allow-list of
// globals, which it never imports or runs: it knows what each means.
//
//   collections.OrderedDict                   an empty (or listed) dict; its BUILD state is ignored
//   torch._utils._rebuild_tensor_v2           a tensor view of a storage (checked against it)
//   torch._utils._rebuild_parameter           a Parameter: its tensor
//   torch._tensor._rebuild_from_type_v2       a Tensor / Parameter subclass wrapper: its tensor
//   torch.Size                                a tuple of ints
//   _codecs.encode(text, "latin1")           bytes (how protocol 2 writes bytes)
//   torch.jit._pickle.restore_type_tag        its value (LibTorch's torch::pickle_save writes it)
//   torch.{Double,Float,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage   storage types
//   torch.Tensor, torch.nn.parameter.Parameter                                 (as wrapper types)
//
// Any other global, or an opcode outside that set, is an error. So is a container nested deeper than
// `max_depth`, a view that reaches past its storage, or a malformed stream. Everything is
// bounds-checked; the reader never recurses on the input, so hostile input cannot exhaust the stack.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/safetensors.h"  // DType

namespace capfilt::model {

using PickleId = std::size_t;

enum class PickleKind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor };

struct PickleValue {
  PickleKind kind = PickleKind::kNone;
  int64_t integer = 0;           // kBool, kInt; kGlobal: which global; kStorage/kTensor: index
  double number = 0;             // kFloat
  std::string text;              // kString, kBytes; kGlobal: "module.name"
  std::vector<PickleId> items;   // kTuple, kList; kDict: key, value, key, value, ...
  int depth = 0;                 // containers: levels of containers below and including this one
};

// A tensor as _rebuild_tensor_v2 describes it: a strided view of a storage, in elements.
struct PickleTensor {
  std::size_t storage = 0;  // what the storage resolver returned
  DType dtype = DType::kF32;
  int64_t offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
};

struct PickleGraph {
  std::vector<PickleValue> values;  // every value the stream made; ids index it
  std::vector<PickleTensor> tensors;
  PickleId root = 0;

  const PickleValue& at(PickleId id) const { return values[id]; }
};

// Called for every persistent id ("storage", <type>, key, location, numel): checks that the
// archive holds that storage and returns an index for it. Throws ModelError when it does not.
using StorageResolver = std::function<std::size_t(const std::string& key, DType dtype, uint64_t numel)>;

constexpr int kPickleMaxDepth = 64;

// Runs the restricted unpickler over `data[0, size)`. Errors throw ModelError starting with
// `source_name` and the byte offset of the failing opcode.
PickleGraph unpickle_torch(const uint8_t* data, std::size_t size, const StorageResolver& resolve,
                           const std::string& source_name, int max_depth = kPickleMaxDepth);

}  // namespace capfilt::model
