// c10d process groups behind model::Communicator. Gloo is compiled in when its headers are
// installed (Debian: libgloo-dev; the ProcessGroupGloo header includes them), NCCL when LibTorch was
// built with CUDA and nccl.h is found. The c10d classes live in libtorch_cpu (libtorch_cuda for
// NCCL), which every capfilt target already links.

#include "model/distributed.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#if __has_include(<gloo/config.h>)
#define CAPFILT_HAVE_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#if defined(CAPFILT_WITH_CUDA) && __has_include(<nccl.h>)
#define CAPFILT_HAVE_NCCL 1
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>

#include "model/error.h"

namespace capfilt::model {
namespace {

// LibTorch 2.x split ProcessGroup into a dispatching front and per-device Backends; the Gloo and
// NCCL classes derive from Backend there and from ProcessGroup in 1.13. Their collective methods
// have the same signatures in both.
#if TORCH_VERSION_MAJOR >= 2
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

class Timer {
 public:
  explicit Timer(double* total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Timer() {
    *total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double* total_;
  std::chrono::steady_clock::time_point start_;
};

class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<BackendBase> backend,
                   const ProcessGroupOptions& options)
      : store_(std::move(store)), backend_(std::move(backend)), options_(options) {}

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors, const std::string& what) override {
    Timer timer(&seconds_);
    guarded(what, [&] {
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      for (torch::Tensor& t : tensors) {
        std::vector<at::Tensor> one{t};
        works.push_back(backend_->allreduce(one));  // Gloo/NCCL run these on their own threads
      }
      for (auto& w : works) w->wait(options_.timeout);
    });
  }

  void all_reduce_max(torch::Tensor& tensor, const std::string& what) override {
    Timer timer(&seconds_);
    guarded(what, [&] {
      std::vector<at::Tensor> one{tensor};
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::MAX;
      backend_->allreduce(one, o)->wait(options_.timeout);
    });
  }

  torch::Tensor all_gather(const torch::Tensor& tensor, const std::string& what) override {
    Timer timer(&seconds_);
    const torch::Tensor input = tensor.contiguous();
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int r = 0; r < options_.world_size; ++r) outputs[0].push_back(torch::empty_like(input));
    std::vector<at::Tensor> inputs{input};
    guarded(what, [&] { backend_->allgather(outputs, inputs)->wait(options_.timeout); });
    return torch::cat(outputs[0], 0);
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int root, const std::string& what) override {
    Timer timer(&seconds_);
    guarded(what, [&] {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      for (torch::Tensor& t : tensors) {
        std::vector<at::Tensor> one{t};
        backend_->broadcast(one, o)->wait(options_.timeout);
      }
    });
  }

  void barrier(const std::string& what) override {
    Timer timer(&seconds_);
    guarded(what, [&] { backend_->barrier()->wait(options_.timeout); });
  }

 private:
  template <typename F>
  void guarded(const std::string& what, F&& body) {
    try {
      body();
    } catch (const c10::Error& e) {
      throw lost(what, e.what_without_backtrace());
    } catch (const std::exception& e) {
      throw lost(what, e.what());
    }
  }

  ModelError lost(const std::string& what, const std::string& detail) const {
    return ModelError("distributed training: rank " + std::to_string(options_.rank) + " of " +
                      std::to_string(options_.world_size) + " lost contact with the other " +
                      "processes during " + what + " (another rank died, was killed or stalled " +
                      "longer than the " + std::to_string(options_.timeout.count()) +
                      " s timeout): " + detail);
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<BackendBase> backend_;
  ProcessGroupOptions options_;
};

// LibTorch 2.4+ serves the TCPStore with libuv by default, and fails where it was built without it
// (Debian's 2.6); the classic server exists in every release. Older releases lack the field.
template <typename Options>
auto use_classic_store_server(Options& o, int) -> decltype(o.useLibUV = false, void()) {
  o.useLibUV = false;
}
template <typename Options>
void use_classic_store_server(Options&, long) {}

c10::intrusive_ptr<BackendBase> make_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                             const ProcessGroupOptions& o) {
  const std::chrono::milliseconds timeout = o.timeout;
  if (o.backend == "gloo") {
#ifdef CAPFILT_HAVE_GLOO
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // The interface that reaches the master; loopback when everything runs on one machine.
    const bool local = o.master_addr == "127.0.0.1" || o.master_addr == "localhost";
    options->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.world_size, options);
#endif
  } else if (o.backend == "nccl") {
#ifdef CAPFILT_HAVE_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.rank, o.world_size, options);
#endif
  } else {
    throw ModelError("distributed training: unknown backend '" + o.backend + "' (gloo or nccl)");
  }
  throw ModelError("distributed training: this build of capfilt has no " + o.backend +
                   " backend (" +
                   (o.backend == "nccl" ? "NCCL needs a LibTorch built with CUDA and nccl.h"
                                        : "Gloo needs the gloo headers, Debian's libgloo-dev") +
                   " when capfilt is compiled)");
}

// BLIP's AllGather autograd function: forward gathers, backward sums the gradient of the gathered
// tensor over ranks (each rank's loss used every rank's rows) and keeps this rank's slice.
class GatherWithGrad : public torch::autograd::Function<GatherWithGrad> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor input,
                               Communicator* comm) {
    ctx->saved_data["rows"] = input.size(0);
    ctx->saved_data["comm"] = reinterpret_cast<int64_t>(comm);
    return comm->all_gather(input, "the gather of image embeddings for ITM hard negatives");
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* comm = reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
    const int64_t rows = ctx->saved_data["rows"].toInt();
    std::vector<torch::Tensor> g{grads[0].contiguous().clone()};
    comm->all_reduce_sum(g, "the backward pass of the gathered image embeddings");
    return {g[0].narrow(0, comm->rank() * rows, rows), torch::Tensor()};
  }
};

}  // namespace

bool backend_available(const std::string& backend) {
#ifdef CAPFILT_HAVE_GLOO
  if (backend == "gloo") return true;
#endif
#ifdef CAPFILT_HAVE_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

std::unique_ptr<Communicator> connect_process_group(const ProcessGroupOptions& o) {
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    throw ModelError("distributed training: rank " + std::to_string(o.rank) +
                     " is outside a world of " + std::to_string(o.world_size) + " processes");
  }
  if (o.master_port <= 0 || o.master_port > 65535) {
    throw ModelError("distributed training: MASTER_PORT " + std::to_string(o.master_port) +
                     " is not a TCP port");
  }
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.master_port);
    so.isServer = o.rank == 0;
    so.numWorkers = static_cast<std::size_t>(o.world_size);
    so.waitWorkers = true;
    so.timeout = o.timeout;
    use_classic_store_server(so, 0);
    store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    throw ModelError("distributed training: rank " + std::to_string(o.rank) +
                     " could not meet the others at " + o.master_addr + ":" +
                     std::to_string(o.master_port) + " within " +
                     std::to_string(o.timeout.count()) + " s (is MASTER_ADDR reachable, the " +
                     "port free on the master, every rank started?): " + e.what());
  }
  try {
    return std::make_unique<C10dCommunicator>(store, make_backend(store, o), o);
  } catch (const ModelError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelError("distributed training: rank " + std::to_string(o.rank) + " could not start " +
                     "the " + o.backend + " backend: " + e.what());
  }
}

torch::Tensor all_gather_with_grad(Communicator& comm, const torch::Tensor& tensor) {
  if (comm.world_size() == 1) return tensor;
  return GatherWithGrad::apply(tensor, &comm);
}

void average_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters,
                       int64_t bucket_bytes) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  // Buckets of consecutive gradients of one dtype and device, flattened into one buffer each.
  std::vector<std::vector<torch::Tensor>> buckets;
  int64_t bytes = 0;
  for (const torch::Tensor& p : parameters) {
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    const int64_t size = g.numel() * static_cast<int64_t>(g.element_size());
    const bool fits = !buckets.empty() && bytes + size <= bucket_bytes &&
                      buckets.back().front().scalar_type() == g.scalar_type() &&
                      buckets.back().front().device() == g.device();
    if (!fits) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(g);
    bytes += size;
  }
  std::vector<torch::Tensor> flat;
  flat.reserve(buckets.size());
  for (const auto& bucket : buckets) {
    std::vector<torch::Tensor> views;
    for (const torch::Tensor& g : bucket) views.push_back(g.reshape({-1}));
    flat.push_back(torch::cat(views));
  }
  comm.all_reduce_sum(flat, "the all-reduce of the gradients");
  const double scale = 1.0 / comm.world_size();
  for (size_t b = 0; b < buckets.size(); ++b) {
    int64_t offset = 0;
    for (torch::Tensor& g : buckets[b]) {
      g.copy_(flat[b].narrow(0, offset, g.numel()).view_as(g).mul_(scale));
      offset += g.numel();
    }
  }
}

void broadcast_from_root(Communicator& comm, const std::vector<torch::Tensor>& tensors,
                         const std::string& what) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& t : tensors) flat.push_back(t.detach().contiguous().clone());
  comm.broadcast(flat, 0, what);
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].detach().copy_(flat[i]);
}

}  // namespace capfilt::model
