#pragma once
// Where a data-parallel training process stands: its rank among world_size processes and the
// master to meet, as the standard launchers say it in the environment. Torch-free (the process
// group itself is model/distributed.h), so app/ and the tests read it without LibTorch.
//
//   torchrun / capfilt launch: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK
//   Slurm (srun):              SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the master is
//                              MASTER_ADDR when set, else the first host of SLURM_JOB_NODELIST;
//                              the port MASTER_PORT, else 20000 + SLURM_JOB_ID % 20000
//   both:                      CAPFILT_DIST_BACKEND (gloo, nccl), CAPFILT_DIST_TIMEOUT (seconds)

#include <cstdint>
#include <functional>
#include <string>

#include "db/status.h"

namespace capfilt::core {

struct DistributedSetup {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // rank on this machine: picks the GPU (cuda:LOCAL_RANK)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string backend;  // empty: by device, Gloo on CPU and NCCL on CUDA
  int timeout_s = 300;  // a collective waiting longer fails: the bound on noticing a dead rank
  bool enabled() const { return world_size > 1; }
};

// Reads the variables above through `getenv` (tests pass a map). No launcher variables: one
// process (world_size 1). kInvalid naming the variable when one is malformed or inconsistent
// (RANK outside WORLD_SIZE, a non-numeric port, an unparsable node list).
Result<DistributedSetup> distributed_setup_from_env(
    const std::function<const char*(const char*)>& getenv);

// The first host of a Slurm node list: "gpu[03-05,09],cpu1" -> "gpu03", "a,b" -> "a".
// kInvalid for an empty or malformed list.
Result<std::string> first_slurm_host(const std::string& nodelist);

// The backend for a device when none was chosen: "nccl" for cuda*, else "gloo".
std::string default_backend(const std::string& device);

}  // namespace capfilt::core
