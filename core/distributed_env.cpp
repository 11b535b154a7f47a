#include "core/distributed_env.h"

#include <cerrno>
#include <cstdlib>

namespace capfilt::core {
namespace {

bool parse_int(const char* text, long long low, long long high, long long* out) {
  if (text == nullptr || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < low || v > high) return false;
  *out = v;
  return true;
}

// Reads variable `name` as an integer in [low, high] into *out when set; kInvalid when malformed.
Status read_int(const std::function<const char*(const char*)>& getenv, const char* name,
                long long low, long long high, int* out) {
  const char* text = getenv(name);
  if (text == nullptr) return Status::ok();
  long long v = 0;
  if (!parse_int(text, low, high, &v)) {
    return Status::invalid(std::string("environment variable ") + name + "='" + text +
                           "' is not a whole number from " + std::to_string(low) + " to " +
                           std::to_string(high));
  }
  *out = static_cast<int>(v);
  return Status::ok();
}

}  // namespace

Result<std::string> first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets.
  std::string first;
  int depth = 0;
  for (char c : nodelist) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (depth < 0) break;
    if (c == ',' && depth == 0) break;
    first += c;
  }
  const auto bad = [&] {
    return Status::invalid("SLURM_JOB_NODELIST='" + nodelist + "' is not a Slurm node list; set " +
                           "MASTER_ADDR to the first node's address");
  };
  if (first.empty() || depth != 0) return bad();
  // Each bracketed range stands for its first value: "rack[2,4]-n[01-03]" -> "rack2-n01" (leading
  // zeros kept: they are part of the host name).
  std::string host;
  size_t at = 0;
  while (at < first.size()) {
    const size_t open = first.find('[', at);
    if (open == std::string::npos) {
      host += first.substr(at);
      break;
    }
    const size_t close = first.find(']', open);
    if (close == std::string::npos) return bad();
    const std::string range = first.substr(open + 1, close - open - 1);
    const std::string low = range.substr(0, range.find_first_of("-,"));
    if (low.empty() || low.find_first_not_of("0123456789") != std::string::npos) return bad();
    host += first.substr(at, open - at) + low;
    at = close + 1;
  }
  return host;
}

std::string default_backend(const std::string& device) {
  return device.rfind("cuda", 0) == 0 ? "nccl" : "gloo";
}

Result<DistributedSetup> distributed_setup_from_env(
    const std::function<const char*(const char*)>& getenv) {
  DistributedSetup d;
  const bool torchrun = getenv("WORLD_SIZE") != nullptr;
  const bool slurm = !torchrun && getenv("SLURM_NTASKS") != nullptr;
  if (torchrun) {
    if (Status s = read_int(getenv, "WORLD_SIZE", 1, 1 << 20, &d.world_size); !s) return s;
    if (Status s = read_int(getenv, "RANK", 0, 1 << 20, &d.rank); !s) return s;
    if (Status s = read_int(getenv, "LOCAL_RANK", 0, 1 << 20, &d.local_rank); !s) return s;
    if (d.world_size > 1 && getenv("RANK") == nullptr) {
      return Status::invalid("WORLD_SIZE is " + std::to_string(d.world_size) +
                             " but RANK is not set: start the processes with a launcher "
                             "(capfilt launch, torchrun, srun)");
    }
  } else if (slurm) {
    if (Status s = read_int(getenv, "SLURM_NTASKS", 1, 1 << 20, &d.world_size); !s) return s;
    if (Status s = read_int(getenv, "SLURM_PROCID", 0, 1 << 20, &d.rank); !s) return s;
    if (Status s = read_int(getenv, "SLURM_LOCALID", 0, 1 << 20, &d.local_rank); !s) return s;
    int job_id = 0;
    if (Status s = read_int(getenv, "SLURM_JOB_ID", 0, 1 << 30, &job_id); !s) return s;
    d.master_port = 20000 + job_id % 20000;  // jobs sharing a node do not collide
    if (d.world_size > 1 && getenv("MASTER_ADDR") == nullptr) {
      const char* nodes = getenv("SLURM_JOB_NODELIST");
      if (nodes == nullptr) nodes = getenv("SLURM_NODELIST");
      if (nodes == nullptr) {
        return Status::invalid("SLURM_NTASKS is " + std::to_string(d.world_size) +
                               " but neither MASTER_ADDR nor SLURM_JOB_NODELIST is set");
      }
      auto host = first_slurm_host(nodes);
      if (!host) return host.status();
      d.master_addr = *host;
    }
  }
  if (d.rank >= d.world_size) {
    return Status::invalid("rank " + std::to_string(d.rank) + " is outside a world of " +
                           std::to_string(d.world_size) + " processes (RANK/SLURM_PROCID must be "
                           "below WORLD_SIZE/SLURM_NTASKS)");
  }
  if (const char* addr = getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
    d.master_addr = addr;
  }
  if (Status s = read_int(getenv, "MASTER_PORT", 1, 65535, &d.master_port); !s) return s;
  if (Status s = read_int(getenv, "CAPFILT_DIST_TIMEOUT", 1, 86400, &d.timeout_s); !s) return s;
  if (const char* b = getenv("CAPFILT_DIST_BACKEND"); b != nullptr && *b != '\0') {
    d.backend = b;
    if (d.backend != "gloo" && d.backend != "nccl") {
      return Status::invalid(std::string("environment variable CAPFILT_DIST_BACKEND='") + b +
                             "' is neither gloo nor nccl");
    }
  }
  return d;
}

}  // namespace capfilt::core
