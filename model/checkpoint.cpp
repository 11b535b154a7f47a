#include "model/checkpoint.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "model/error.h"
#include "model/pth_reader.h"

namespace capfilt::model {

namespace {

std::string shape_string(c10::IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// One tensor of the module, registered under one or more paths.
struct Slot {
  std::vector<std::string> names;
  torch::Tensor target;
};

std::vector<Slot> module_slots(const torch::nn::Module& module) {
  std::vector<Slot> slots;
  std::unordered_map<const c10::TensorImpl*, std::size_t> by_impl;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    if (!t.defined()) return;
    auto [it, inserted] = by_impl.emplace(t.unsafeGetTensorImpl(), slots.size());
    if (inserted) {
      slots.push_back({{name}, t});
    } else {
      slots[it->second].names.push_back(name);
    }
  };
  for (const auto& item : module.named_parameters(true)) add(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) add(item.key(), item.value());
  return slots;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s = names.front();
  if (names.size() > 1) {
    s += " (shared with";
    for (std::size_t i = 1; i < names.size(); ++i) s += " " + names[i];
    s += ")";
  }
  return s;
}

}  // namespace

torch::Dtype to_torch_dtype(DType dtype) {
  switch (dtype) {
    case DType::kF64: return torch::kFloat64;
    case DType::kF32: return torch::kFloat32;
    case DType::kF16: return torch::kFloat16;
    case DType::kBF16: return torch::kBFloat16;
    case DType::kI64: return torch::kInt64;
    case DType::kI32: return torch::kInt32;
    case DType::kI16: return torch::kInt16;
    case DType::kI8: return torch::kInt8;
    case DType::kU8: return torch::kUInt8;
    case DType::kBool: return torch::kBool;
  }
  throw ModelError("safetensors: invalid dtype value");
}

DType from_torch_dtype(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat64: return DType::kF64;
    case torch::kFloat32: return DType::kF32;
    case torch::kFloat16: return DType::kF16;
    case torch::kBFloat16: return DType::kBF16;
    case torch::kInt64: return DType::kI64;
    case torch::kInt32: return DType::kI32;
    case torch::kInt16: return DType::kI16;
    case torch::kInt8: return DType::kI8;
    case torch::kUInt8: return DType::kU8;
    case torch::kBool: return DType::kBool;
    default: break;
  }
  throw ModelError(std::string("safetensors cannot hold Torch dtype ") + c10::toString(dtype));
}

NamedTensors load_safetensors(const std::string& path, SafetensorsMetadata* metadata) {
  const SafetensorsFile file = SafetensorsFile::read(path);
  NamedTensors tensors;
  for (const auto& entry : file.entries()) {
    torch::Tensor t = torch::empty(entry.shape, torch::TensorOptions().dtype(to_torch_dtype(entry.dtype)));
    const uint8_t* src = file.data(entry);
    if (entry.dtype == DType::kBool) {
      for (std::size_t i = 0; i < entry.num_bytes(); ++i) {
        if (src[i] > 1) {
          throw ModelError("safetensors file " + path + ": tensor \"" + entry.name +
                           "\": BOOL byte " + std::to_string(src[i]) + " is neither 0 nor 1");
        }
      }
    }
    if (entry.num_bytes() > 0) std::memcpy(t.data_ptr(), src, entry.num_bytes());
    tensors.emplace(entry.name, std::move(t));
  }
  if (metadata != nullptr) *metadata = file.metadata();
  return tensors;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  std::vector<torch::Tensor> keep;  // owns the CPU, contiguous copies while writing
  std::vector<SafetensorsTensorView> views;
  keep.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) throw ModelError("safetensors file " + path + ": tensor \"" + name + "\" is undefined");
    keep.push_back(tensor.detach().to(torch::kCPU).contiguous());
    const auto& t = keep.back();
    SafetensorsTensorView view;
    view.name = name;
    try {
      view.dtype = from_torch_dtype(t.scalar_type());
    } catch (const ModelError& e) {
      throw ModelError("safetensors file " + path + ": tensor \"" + name + "\": " + e.what());
    }
    view.shape.assign(t.sizes().begin(), t.sizes().end());
    view.data = t.data_ptr();
    view.num_bytes = t.nbytes();
    views.push_back(std::move(view));
  }
  write_safetensors(path, std::move(views), metadata);
}

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& slot : module_slots(module)) out.emplace(slot.names.front(), slot.target);
  return out;
}

void load_state_dict_strict(torch::nn::Module& module, const NamedTensors& tensors,
                            const std::string& source_name) {
  const std::vector<Slot> slots = module_slots(module);
  std::unordered_map<std::string, std::size_t> slot_of;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    for (const auto& name : slots[i].names) slot_of.emplace(name, i);
  }
  std::vector<std::string> unexpected, mismatched, missing;
  std::vector<bool> found(slots.size(), false);
  std::vector<std::pair<std::size_t, const torch::Tensor*>> copies;
  for (const auto& [name, tensor] : tensors) {
    auto it = slot_of.find(name);
    if (it == slot_of.end()) {
      unexpected.push_back(name);
      continue;
    }
    const auto& target = slots[it->second].target;
    if (!tensor.defined() || tensor.sizes() != target.sizes()) {
      mismatched.push_back(name + ": expected " + shape_string(target.sizes()) + ", found " +
                           (tensor.defined() ? shape_string(tensor.sizes()) : "an undefined tensor"));
      found[it->second] = true;  // reported as a mismatch, not also as missing
      continue;
    }
    found[it->second] = true;
    copies.emplace_back(it->second, &tensor);
  }
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!found[i]) missing.push_back(join_names(slots[i].names));
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream msg;
    msg << source_name << ": the checkpoint does not match the model (" << missing.size()
        << " missing, " << unexpected.size() << " unexpected, " << mismatched.size()
        << " with the wrong shape)";
    for (const auto& n : missing) msg << "\n  missing: " << n;
    for (const auto& n : unexpected) msg << "\n  unexpected: " << n;
    for (const auto& n : mismatched) msg << "\n  shape mismatch: " << n;
    throw ModelError(msg.str());
  }
  torch::NoGradGuard no_grad;
  for (const auto& [slot, tensor] : copies) slots[slot].target.copy_(*tensor);
}

NamedTensors read_pth_state_dict(const std::string& path) {
  const PthStateDict file = PthStateDict::read(path);
  NamedTensors out;
  for (const PthTensor& t : file.tensors()) {
    const auto options = torch::TensorOptions().dtype(to_torch_dtype(t.dtype));
    const auto width = static_cast<std::uintptr_t>(dtype_size(t.dtype));
    const auto numel = static_cast<int64_t>(t.storage_numel);
    // The record is used in place when its elements are aligned (PyTorch aligns records to 64
    // bytes), copied first otherwise; either way the view is copied into a tensor of its own.
    torch::Tensor storage;
    if (reinterpret_cast<std::uintptr_t>(t.storage) % width == 0) {
      storage = torch::from_blob(const_cast<uint8_t*>(t.storage), {numel}, options);
    } else {
      storage = torch::empty({numel}, options);
      if (numel > 0) std::memcpy(storage.data_ptr(), t.storage, t.storage_numel * width);
    }
    torch::Tensor tensor = torch::empty(t.shape, options);
    tensor.copy_(storage.as_strided(t.shape, t.strides, t.offset));
    out.emplace(t.name, std::move(tensor));
  }
  return out;
}

}  // namespace capfilt::model
