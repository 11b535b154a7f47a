#pragma once
// Data-parallel training across processes on torch's c10d (Gloo on CPU, NCCL on CUDA when LibTorch
// was built with it): a Communicator over a process group, and the two operations BLIP's released
// code builds on it: concat_all_gather (features and ids of the global batch, no gradient) and
// all_gather_with_grad (image embeddings for ITM hard negatives, gradient returned to the rank the
// rows came from), plus gradient averaging in flat buckets.
// Model-internal header (includes Torch).
//
// Every collective must be called by every rank in the same order with tensors of the same shape.
// A Communicator is used by one thread (the training loop; for the CPU backward pass that is the
// same thread). Failures (a peer died, a timeout) throw ModelError naming the operation.

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace capfilt::model {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sum over ranks, in place. `what` names the operation in error messages.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors, const std::string& what) = 0;
  // Max over ranks, in place.
  virtual void all_reduce_max(torch::Tensor& tensor, const std::string& what) = 0;
  // Every rank's `tensor` concatenated along dim 0 in rank order; the shapes must agree.
  virtual torch::Tensor all_gather(const torch::Tensor& tensor, const std::string& what) = 0;
  // Root's tensors copied into every rank's, in place.
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;
  // Seconds spent inside collectives since construction (the communication share of a step).
  double seconds() const { return seconds_; }

 protected:
  double seconds_ = 0.0;
};

// Where to meet and how: what a launcher (torchrun, Slurm, capfilt launch) tells each process.
struct ProcessGroupOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string backend = "gloo";  // "gloo" or "nccl"
  // Bound on every collective and on the rendezvous: a rank that died or hangs makes the others
  // fail after at most this long (a killed peer usually closes its sockets, which fails at once).
  std::chrono::seconds timeout{300};
};

// Joins the process group: rank 0 serves a c10d TCPStore at master_addr:master_port, every rank
// connects to it and builds the backend. Throws ModelError naming the address or the backend when
// the rendezvous times out or the backend is not in this LibTorch build.
std::unique_ptr<Communicator> connect_process_group(const ProcessGroupOptions& options);

// Whether this build can make a backend ("gloo", "nccl").
bool backend_available(const std::string& backend);

// all_gather whose backward sums the incoming gradient over ranks and returns this rank's rows
// (BLIP's all_gather_with_grad). The caller's loss is then the rank's share of the global loss.
torch::Tensor all_gather_with_grad(Communicator& comm, const torch::Tensor& tensor);

// Sums the defined gradients of `parameters` over ranks and divides by the world size, in flat
// buckets of about `bucket_bytes` (one collective per bucket, all launched before any is waited
// on). Every rank must hold the same parameters with gradients defined for the same ones.
void average_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters,
                       int64_t bucket_bytes = 25 << 20);

// Copies rank 0's values into every rank's `tensors` (initial weights, buffers).
void broadcast_from_root(Communicator& comm, const std::vector<torch::Tensor>& tensors,
                         const std::string& what);

}  // namespace capfilt::model
