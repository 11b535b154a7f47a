#pragma once
// `capfilt launch`: N copies of a command on this machine as the ranks of one distributed job, the
// way torchrun starts them: each child gets MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE (core/distributed_env.h reads them). Torch-free.
//
// SIGINT/SIGTERM to the launcher are forwarded once to every child (each stops after its step and
// rank 0 writes a checkpoint). Children run in their own process group, so a terminal's Ctrl-C
// reaches them only through the launcher, and get SIGTERM if the launcher itself dies. When a
// child fails, the others get `grace` to notice through their collectives and fail on their own;
// then they get SIGTERM and, `kill_after` later, SIGKILL.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "db/status.h"

namespace capfilt::core {

struct LaunchOptions {
  int nproc = 2;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;             // 0: a free port of this machine
  std::vector<std::string> argv;   // the program and its arguments (the same for every rank)
  std::chrono::seconds grace{30};
  std::chrono::seconds kill_after{10};
  // Lines about the children ("rank 1 (pid 123) was killed by signal 9; stopping the others").
  std::function<void(const std::string&)> on_message;
};

struct LaunchResult {
  // 0 when every child exited 0; the stopped code (3) when all stopped or succeeded and one
  // stopped; else the first failing child's exit code (128 + signal for a signal).
  int exit_code = 0;
  std::vector<int> child_codes;  // by rank, in the same convention
  int first_failed_rank = -1;
};

// Starts the children and waits for all of them. kInvalid for nproc < 1 or an empty argv;
// kIoError when a child cannot be started (the others are stopped then).
Result<LaunchResult> launch_local(const LaunchOptions& options, int stopped_code = 3);

// A TCP port nobody listens on at the moment (bind to port 0, read it back).
Result<int> free_tcp_port();

}  // namespace capfilt::core
