#pragma once
// Checkpoint I/O with Torch: safetensors files to and from named tensors, strict loading of a
// module's parameters and buffers, and reading the state dict of a Salesforce BLIP .pth file.
// Includes Torch: only model/ and tests include this header.
//
// All functions throw ModelError naming the file (or `source_name`) and the problem.

#include <map>
#include <string>

#include <torch/torch.h>

#include "model/safetensors.h"

namespace capfilt::model {

// Name -> tensor, ordered by name.
using NamedTensors = std::map<std::string, torch::Tensor>;

torch::Dtype to_torch_dtype(DType dtype);
// Throws ModelError for a Torch dtype safetensors cannot hold (complex, quantized, ...).
DType from_torch_dtype(torch::Dtype dtype);

// Every tensor of the file as a CPU tensor that owns its memory (a copy), with the file's dtype.
// `metadata`, when not null, receives the file's "__metadata__".
NamedTensors load_safetensors(const std::string& path, SafetensorsMetadata* metadata = nullptr);
// Writes the tensors (moved to CPU, made contiguous) with their dtypes.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});

// The module's parameters and buffers by dotted path. A tensor registered under several paths
// (a submodule shared by two parents) appears once, under the first path in registration order.
NamedTensors state_dict(const torch::nn::Module& module);

// Copies `tensors` into the module's parameters and buffers (under NoGradGuard, converting dtype
// and device to the module's). Every tensor of the module must be found (a tensor registered under
// several paths needs any one of them) and every entry of `tensors` must name one, with the same
// shape; otherwise nothing is copied and ONE ModelError lists every missing name, every unexpected
// name and every shape mismatch (expected vs found), prefixed with `source_name`.
void load_state_dict_strict(torch::nn::Module& module, const NamedTensors& tensors,
                            const std::string& source_name);

// The state dict of a PyTorch .pth checkpoint (a zip archive written by torch.save) as Salesforce
// BLIP publishes it: a pickled dict whose "model" entry is the state dict (a dict that is itself
// the state dict, without "model", is accepted too). Read by model/pth_reader.h, not by LibTorch's
// unpickler: the same on every LibTorch, and no code from the file runs. Every tensor is a copy
// that owns its memory (views of one storage become separate tensors).
NamedTensors read_pth_state_dict(const std::string& path);

}  // namespace capfilt::model
