#include "model/pth_pickle.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include "model/error.h"

namespace capfilt::model {

namespace {

// The globals a torch.save state dict may name; every other one is refused.
enum Global : int64_t {
  kOrderedDict,
  kRebuildTensorV2,
  kRebuildParameter,
  kRebuildParameterWithState,
  kRebuildFromTypeV2,
  kTorchSize,
  kTensorType,
  kParameterType,
  kRestoreTypeTag,
  kCodecsEncode,
  kStorageTypeBase,  // + static_cast<int>(DType): torch.<Type>Storage
};

constexpr int kMaxDims = 64;
constexpr std::size_t kMaxGlobalName = 256;

struct StorageTypeName {
  const char* name;
  DType dtype;
};
constexpr StorageTypeName kStorageTypes[] = {
    {"DoubleStorage", DType::kF64}, {"FloatStorage", DType::kF32}, {"HalfStorage", DType::kF16},
    {"BFloat16Storage", DType::kBF16}, {"LongStorage", DType::kI64}, {"IntStorage", DType::kI32},
    {"ShortStorage", DType::kI16}, {"CharStorage", DType::kI8}, {"ByteStorage", DType::kU8},
    {"BoolStorage", DType::kBool},
};

std::optional<int64_t> allowed_global(const std::string& module, const std::string& name) {
  if (module == "collections" && name == "OrderedDict") return kOrderedDict;
  if (module == "torch._utils") {
    if (name == "_rebuild_tensor_v2") return kRebuildTensorV2;
    if (name == "_rebuild_parameter") return kRebuildParameter;
    if (name == "_rebuild_parameter_with_state") return kRebuildParameterWithState;
  }
  if (module == "torch._tensor" && name == "_rebuild_from_type_v2") return kRebuildFromTypeV2;
  if (module == "torch.nn.parameter" && name == "Parameter") return kParameterType;
  if (module == "torch.jit._pickle" && name == "restore_type_tag") return kRestoreTypeTag;
  if (module == "_codecs" && name == "encode") return kCodecsEncode;
  if (module == "torch") {
    if (name == "Size") return kTorchSize;
    if (name == "Tensor") return kTensorType;
    for (const auto& s : kStorageTypes) {
      if (name == s.name) return kStorageTypeBase + static_cast<int64_t>(s.dtype);
    }
  }
  return std::nullopt;
}

// The latin-1 bytes of UTF-8 text whose code points are all below 256.
std::optional<std::string> utf8_to_latin1(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

struct StorageInfo {
  std::size_t index;  // from the resolver
  DType dtype;
  uint64_t numel;
};

class Machine {
 public:
  Machine(const uint8_t* data, std::size_t size, const StorageResolver& resolve, const std::string& source,
          int max_depth)
      : data_(data), size_(size), resolve_(resolve), source_(source), max_depth_(max_depth) {}

  PickleGraph run();

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw ModelError(source_ + ": data.pkl byte " + std::to_string(op_pos_) + ": " + problem);
  }
  const uint8_t* take(uint64_t n) {
    if (n > size_ - pos_) fail("the pickle ends in the middle of an opcode (truncated?)");
    const uint8_t* p = data_ + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  uint64_t le(int n) {
    const uint8_t* p = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::string line() {
    const std::size_t start = pos_;
    while (pos_ < size_ && data_[pos_] != '\n') {
      if (pos_ - start >= kMaxGlobalName) fail("a GLOBAL name is longer than 256 bytes");
      ++pos_;
    }
    if (pos_ >= size_) fail("the pickle ends in the middle of a GLOBAL (truncated?)");
    return std::string(reinterpret_cast<const char*>(data_ + start), pos_++ - start);
  }

  PickleId make(PickleValue v) {
    graph_.values.push_back(std::move(v));
    return graph_.values.size() - 1;
  }
  PickleId make_scalar(PickleKind kind, int64_t i = 0) {
    PickleValue v;
    v.kind = kind;
    v.integer = i;
    return make(std::move(v));
  }
  PickleId make_container(PickleKind kind, std::vector<PickleId> items) {
    PickleValue v;
    v.kind = kind;
    v.depth = 1;
    for (PickleId id : items) v.depth = std::max(v.depth, graph_.values[id].depth + 1);
    v.items = std::move(items);
    if (v.depth > max_depth_) too_deep();
    return make(std::move(v));
  }
  [[noreturn]] void too_deep() const {
    fail("containers nested deeper than " + std::to_string(max_depth_) + " levels");
  }
  void add_items(PickleId target, PickleKind want, const std::vector<PickleId>& items) {
    PickleValue& t = graph_.values[target];
    if (t.kind != want) fail(want == PickleKind::kDict ? "SETITEM(S) on something that is not a dict"
                                                       : "APPEND(S) on something that is not a list");
    if (want == PickleKind::kDict && items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
    int depth = t.depth;
    for (PickleId id : items) depth = std::max(depth, graph_.values[id].depth + 1);
    if (depth > max_depth_) too_deep();
    t.depth = depth;
    t.items.insert(t.items.end(), items.begin(), items.end());
  }

  void push(PickleId id) { stack_.push_back(id); }
  PickleId pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("pop from an empty stack");
    const PickleId id = stack_.back();
    stack_.pop_back();
    return id;
  }
  PickleId top() const {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("the stack is empty");
    return stack_.back();
  }
  std::vector<PickleId> pop_to_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleId> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  const PickleValue& value(PickleId id) const { return graph_.values[id]; }

  void memo_put(uint64_t index) { memo_[index] = top(); }
  void memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " read before it was written");
    push(it->second);
  }

  void push_int_bytes(uint64_t n) {
    if (n > 8) fail("an integer of " + std::to_string(n) + " bytes is out of range");
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (uint64_t i = n; i-- > 0;) v = (v << 8) | p[i];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80) != 0) v |= ~uint64_t(0) << (8 * n);  // sign-extend
    int64_t s;
    std::memcpy(&s, &v, sizeof s);
    push(make_scalar(PickleKind::kInt, s));
  }
  void push_text(PickleKind kind, uint64_t n) {
    const uint8_t* p = take(n);
    PickleValue v;
    v.kind = kind;
    v.text.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    push(make(std::move(v)));
  }
  void push_global(const std::string& module, const std::string& name) {
    const auto g = allowed_global(module, name);
    if (!g) fail("the checkpoint names the global " + module + "." + name + ", which a weights file has no use for (refused: only tensors and plain containers are read)");
    PickleValue v;
    v.kind = PickleKind::kGlobal;
    v.integer = *g;
    v.text = module + "." + name;
    push(make(std::move(v)));
  }

  int64_t as_int(PickleId id, const char* what) const {
    if (value(id).kind != PickleKind::kInt && value(id).kind != PickleKind::kBool) fail(std::string(what) + " is not an integer");
    return value(id).integer;
  }
  const std::string& as_string(PickleId id, const char* what) const {
    if (value(id).kind != PickleKind::kString) fail(std::string(what) + " is not a string");
    return value(id).text;
  }
  std::vector<int64_t> as_ints(PickleId id, const char* what) const {
    const PickleValue& v = value(id);
    if (v.kind != PickleKind::kTuple && v.kind != PickleKind::kList) fail(std::string(what) + " is not a tuple");
    if (v.items.size() > kMaxDims) fail(std::string(what) + " has more than 64 dimensions");
    std::vector<int64_t> out;
    for (PickleId item : v.items) out.push_back(as_int(item, what));
    return out;
  }
  std::string latin1_bytes(const std::string& text) const {
    auto bytes = utf8_to_latin1(text);
    if (!bytes) fail("_codecs.encode of a string that is not latin-1");
    return *bytes;
  }
  bool empty_or_none(PickleId id) const {
    const PickleValue& v = value(id);
    return v.kind == PickleKind::kNone || (v.kind == PickleKind::kDict && v.items.empty());
  }

  void persistent_load();
  void reduce();
  PickleId call(int64_t global, const std::vector<PickleId>& args);
  PickleId rebuild_tensor(const std::vector<PickleId>& args);

  const uint8_t* data_;
  std::size_t size_;
  const StorageResolver& resolve_;
  const std::string& source_;
  int max_depth_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  PickleGraph graph_;
  std::vector<PickleId> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, PickleId> memo_;
  std::vector<StorageInfo> storages_;
  std::map<std::string, std::size_t> storage_by_key_;
};

void Machine::persistent_load() {
  const PickleValue& pid = value(pop());
  if (pid.kind != PickleKind::kTuple || pid.items.size() != 5 ||
      value(pid.items[0]).kind != PickleKind::kString || value(pid.items[0]).text != "storage") {
    fail("a persistent id that is not (\"storage\", type, key, location, numel)");
  }
  const PickleValue& type = value(pid.items[1]);
  if (type.kind != PickleKind::kGlobal || type.integer < kStorageTypeBase) fail("a persistent id whose type is not a storage type");
  const auto dtype = static_cast<DType>(type.integer - kStorageTypeBase);
  const std::string& key = as_string(pid.items[2], "a storage key");
  as_string(pid.items[3], "a storage location");  // "cpu", "cuda:0": everything is read to the CPU
  const int64_t numel = as_int(pid.items[4], "a storage size");
  if (numel < 0) fail("storage \"" + key + "\" has a negative size");
  std::size_t local;
  const auto it = storage_by_key_.find(key);
  if (it != storage_by_key_.end()) {
    local = it->second;
    if (storages_[local].dtype != dtype || storages_[local].numel != static_cast<uint64_t>(numel)) {
      fail("storage \"" + key + "\" is described twice, differently");
    }
  } else {
    storages_.push_back({resolve_(key, dtype, static_cast<uint64_t>(numel)), dtype, static_cast<uint64_t>(numel)});
    local = storages_.size() - 1;
    storage_by_key_.emplace(key, local);
  }
  PickleValue v;
  v.kind = PickleKind::kStorage;
  v.integer = static_cast<int64_t>(local);
  v.text = key;
  push(make(std::move(v)));
}

PickleId Machine::rebuild_tensor(const std::vector<PickleId>& args) {
  if (args.size() != 6 && args.size() != 7) fail("_rebuild_tensor_v2 takes 6 or 7 arguments");
  if (value(args[0]).kind != PickleKind::kStorage) fail("_rebuild_tensor_v2 of something that is not a storage");
  const StorageInfo& storage = storages_[static_cast<std::size_t>(value(args[0]).integer)];
  const std::string& key = value(args[0]).text;
  PickleTensor t;
  t.storage = storage.index;
  t.dtype = storage.dtype;
  t.offset = as_int(args[1], "a storage offset");
  t.shape = as_ints(args[2], "a tensor size");
  t.strides = as_ints(args[3], "a tensor stride");
  if (value(args[5]).kind != PickleKind::kDict) fail("_rebuild_tensor_v2: backward hooks are not a dict");
  if (args.size() == 7 && !empty_or_none(args[6])) fail("tensor metadata (a tensor subclass's state) is not supported");
  if (t.shape.size() != t.strides.size()) fail("a tensor's size and stride have different lengths");
  // The view must stay inside its storage: offset + sum((size - 1) * stride) < numel.
  const uint64_t numel = storage.numel;
  const std::string where = "a tensor view of storage \"" + key + "\" (" + std::to_string(numel) + " elements)";
  if (t.offset < 0) fail(where + " has a negative offset");
  bool empty = false;
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] < 0 || t.strides[d] < 0) fail(where + " has a negative size or stride");
    if (t.shape[d] == 0) empty = true;
  }
  uint64_t last = static_cast<uint64_t>(t.offset);
  if (!empty) {
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      const auto extent = static_cast<uint64_t>(t.shape[d] - 1), stride = static_cast<uint64_t>(t.strides[d]);
      if (stride != 0 && extent > (std::numeric_limits<uint64_t>::max() - last) / stride) {
        fail(where + ": its size and strides overflow");
      }
      last += extent * stride;
    }
  }
  if (empty ? last > numel : last >= numel) {
    std::string shape = "[";
    for (std::size_t d = 0; d < t.shape.size(); ++d) shape += (d ? ", " : "") + std::to_string(t.shape[d]);
    fail(where + ": size " + shape + "] at offset " + std::to_string(t.offset) +
         " does not fit in the storage (reaches element " + std::to_string(last) + ")");
  }
  graph_.tensors.push_back(std::move(t));
  return make_scalar(PickleKind::kTensor, static_cast<int64_t>(graph_.tensors.size() - 1));
}

PickleId Machine::call(int64_t global, const std::vector<PickleId>& args) {
  auto tensor_arg = [&](PickleId id, const char* fn) {
    if (value(id).kind != PickleKind::kTensor) fail(std::string(fn) + " of something that is not a tensor");
    return id;
  };
  switch (global) {
    case kOrderedDict: {
      if (args.empty()) return make_container(PickleKind::kDict, {});
      if (args.size() != 1) fail("OrderedDict takes at most one argument");
      const PickleValue& pairs = value(args[0]);
      if (pairs.kind != PickleKind::kList && pairs.kind != PickleKind::kTuple) fail("OrderedDict of something that is not a list of pairs");
      std::vector<PickleId> items;
      for (PickleId p : pairs.items) {
        const PickleValue& pair = value(p);
        if ((pair.kind != PickleKind::kTuple && pair.kind != PickleKind::kList) || pair.items.size() != 2) {
          fail("OrderedDict of something that is not a list of pairs");
        }
        items.push_back(pair.items[0]);
        items.push_back(pair.items[1]);
      }
      return make_container(PickleKind::kDict, std::move(items));
    }
    case kRebuildTensorV2:
      return rebuild_tensor(args);
    case kRebuildParameter:
    case kRebuildParameterWithState:
      if (args.size() != (global == kRebuildParameter ? 3u : 4u)) fail("_rebuild_parameter: wrong number of arguments");
      return tensor_arg(args[0], "_rebuild_parameter");
    case kRebuildFromTypeV2: {
      if (args.size() != 4) fail("_rebuild_from_type_v2 takes 4 arguments");
      const PickleValue& fn = value(args[0]);
      const PickleValue& type = value(args[1]);
      const PickleValue& inner = value(args[2]);
      if (fn.kind != PickleKind::kGlobal || (fn.integer != kRebuildTensorV2 && fn.integer != kRebuildParameter)) {
        fail("_rebuild_from_type_v2 of a function other than _rebuild_tensor_v2 / _rebuild_parameter");
      }
      if (type.kind != PickleKind::kGlobal || (type.integer != kTensorType && type.integer != kParameterType)) {
        fail("_rebuild_from_type_v2 to a type other than torch.Tensor / Parameter");
      }
      if (inner.kind != PickleKind::kTuple) fail("_rebuild_from_type_v2: its arguments are not a tuple");
      if (!empty_or_none(args[3])) fail("tensor subclass state is not supported");
      const std::vector<PickleId> inner_args = inner.items;
      return tensor_arg(call(fn.integer, inner_args), "_rebuild_from_type_v2");
    }
    case kRestoreTypeTag:  // LibTorch's pickle_save tags a typed dict or list with its type: the value
      if (args.size() != 2 || value(args[1]).kind != PickleKind::kString) fail("restore_type_tag takes a value and a type");
      return args[0];
    case kCodecsEncode: {  // protocol 2 writes bytes b as _codecs.encode(b.decode("latin1"), "latin1")
      if (args.size() != 2 || value(args[0]).kind != PickleKind::kString ||
          value(args[1]).kind != PickleKind::kString || value(args[1]).text != "latin1") {
        fail("_codecs.encode other than of a string to latin1");
      }
      PickleValue v;
      v.kind = PickleKind::kBytes;
      v.text = latin1_bytes(value(args[0]).text);
      return make(std::move(v));
    }
    case kTorchSize: {
      if (args.size() != 1) fail("torch.Size takes one argument");
      as_ints(args[0], "a torch.Size");
      return make_container(PickleKind::kTuple, value(args[0]).items);
    }
    default:
      fail("a call of " + std::string(global >= kStorageTypeBase ? "a storage type" : "torch.Tensor/Parameter") +
           ", which torch.save does not write");
  }
}

void Machine::reduce() {
  const PickleId args_id = pop();
  const PickleId fn_id = pop();
  if (value(fn_id).kind != PickleKind::kGlobal) fail("REDUCE of something that is not an allowed global");
  if (value(args_id).kind != PickleKind::kTuple) fail("REDUCE with arguments that are not a tuple");
  const std::vector<PickleId> args = value(args_id).items;
  push(call(value(fn_id).integer, args));
}

PickleGraph Machine::run() {
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80:  // PROTO
        if (le(1) > 5) fail("pickle protocol above 5");
        break;
      case 0x95: take(8); break;  // FRAME: a length hint
      case '.': {                 // STOP
        if (!marks_.empty() || stack_.size() != 1) fail("STOP with an unbalanced stack");
        graph_.root = stack_.back();
        return std::move(graph_);
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '0': pop(); break;                              // POP
      case '1': pop_to_mark(); break;                      // POP_MARK
      case 'N': push(make_scalar(PickleKind::kNone)); break;
      case 0x88: push(make_scalar(PickleKind::kBool, 1)); break;  // NEWTRUE
      case 0x89: push(make_scalar(PickleKind::kBool, 0)); break;  // NEWFALSE
      case 'J': {                                                 // BININT
        const auto u = static_cast<uint32_t>(le(4));
        int32_t s;
        std::memcpy(&s, &u, sizeof s);
        push(make_scalar(PickleKind::kInt, s));
        break;
      }
      case 'K': push(make_scalar(PickleKind::kInt, static_cast<int64_t>(le(1)))); break;  // BININT1
      case 'M': push(make_scalar(PickleKind::kInt, static_cast<int64_t>(le(2)))); break;  // BININT2
      case 0x8a: push_int_bytes(le(1)); break;                                           // LONG1
      case 0x8b: push_int_bytes(le(4)); break;                                           // LONG4
      case 'G': {                                                                        // BINFLOAT
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
        PickleValue v;
        v.kind = PickleKind::kFloat;
        std::memcpy(&v.number, &bits, sizeof bits);
        push(make(std::move(v)));
        break;
      }
      case 'X': push_text(PickleKind::kString, le(4)); break;     // BINUNICODE
      case 0x8c: push_text(PickleKind::kString, le(1)); break;    // SHORT_BINUNICODE
      case 0x8d: push_text(PickleKind::kString, le(8)); break;    // BINUNICODE8
      case 'T': push_text(PickleKind::kString, le(4)); break;     // BINSTRING
      case 'U': push_text(PickleKind::kString, le(1)); break;     // SHORT_BINSTRING
      case 'B': push_text(PickleKind::kBytes, le(4)); break;      // BINBYTES
      case 'C': push_text(PickleKind::kBytes, le(1)); break;      // SHORT_BINBYTES
      case 0x8e: push_text(PickleKind::kBytes, le(8)); break;     // BINBYTES8
      case ')': push(make_container(PickleKind::kTuple, {})); break;  // EMPTY_TUPLE
      case 't': push(make_container(PickleKind::kTuple, pop_to_mark())); break;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        std::vector<PickleId> items(static_cast<std::size_t>(op - 0x84));
        for (std::size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_container(PickleKind::kTuple, std::move(items)));
        break;
      }
      case ']': push(make_container(PickleKind::kList, {})); break;   // EMPTY_LIST
      case 'l': push(make_container(PickleKind::kList, pop_to_mark())); break;
      case '}': push(make_container(PickleKind::kDict, {})); break;   // EMPTY_DICT
      case 'd': {                                                     // DICT
        std::vector<PickleId> items = pop_to_mark();
        if (items.size() % 2 != 0) fail("DICT with an odd number of items");
        push(make_container(PickleKind::kDict, std::move(items)));
        break;
      }
      case 'a': {  // APPEND
        const PickleId item = pop();
        add_items(top(), PickleKind::kList, {item});
        break;
      }
      case 'e': {  // APPENDS
        const std::vector<PickleId> items = pop_to_mark();
        add_items(top(), PickleKind::kList, items);
        break;
      }
      case 's': {  // SETITEM
        const PickleId v = pop();
        const PickleId k = pop();
        add_items(top(), PickleKind::kDict, {k, v});
        break;
      }
      case 'u': {  // SETITEMS
        const std::vector<PickleId> items = pop_to_mark();
        add_items(top(), PickleKind::kDict, items);
        break;
      }
      case 'q': memo_put(le(1)); break;                 // BINPUT
      case 'r': memo_put(le(4)); break;                 // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;         // MEMOIZE
      case 'h': memo_get(le(1)); break;                 // BINGET
      case 'j': memo_get(le(4)); break;                 // LONG_BINGET
      case 'c': {                                       // GLOBAL
        const std::string module = line();
        const std::string name = line();
        push_global(module, name);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const std::string name = as_string(pop(), "a STACK_GLOBAL name");
        const std::string module = as_string(pop(), "a STACK_GLOBAL module");
        push_global(module, name);
        break;
      }
      case 'R': reduce(); break;
      case 'b': {  // BUILD: only an OrderedDict's attributes (a state dict's _metadata), ignored
        const PickleId state = pop();
        if (value(top()).kind != PickleKind::kDict) fail("BUILD of something other than an OrderedDict");
        const PickleKind k = value(state).kind;
        if (k != PickleKind::kDict && k != PickleKind::kNone && k != PickleKind::kTuple) fail("BUILD with an unexpected state");
        break;
      }
      case 'Q': persistent_load(); break;  // BINPERSID
      default: {
        static const char* hex = "0123456789abcdef";
        fail(std::string("unsupported pickle opcode 0x") + hex[op >> 4] + hex[op & 15] +
             " (not one torch.save writes for a state dict)");
      }
    }
  }
}

}  // namespace

PickleGraph unpickle_torch(const uint8_t* data, std::size_t size, const StorageResolver& resolve,
                           const std::string& source_name, int max_depth) {
  return Machine(data, size, resolve, source_name, max_depth).run();
}

}  // namespace capfilt::model
