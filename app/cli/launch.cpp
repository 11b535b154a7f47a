// `capfilt launch --nproc N -- train ...`: N ranks of a distributed job on this machine
// (core/process_launcher.h), the way torchrun starts them.

#include <unistd.h>

#include <iostream>

#include "app/cli/commands.h"
#include "core/process_launcher.h"

namespace capfilt::app {
namespace {

// The path of this executable, so the children are the same capfilt.
std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot find the capfilt executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

void add_launch_commands(CLI::App& app, const GlobalOptions& options) {
  static core::LaunchOptions o;
  static std::vector<std::string> command;
  static int grace = 30;
  auto* cmd = app.add_subcommand(
      "launch", "Run a capfilt command (train) as N processes of one distributed job on this machine");
  cmd->add_option("--nproc", o.nproc, "processes (ranks), e.g. one per GPU or CPU socket")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--master-port", o.master_port, "rendezvous port (default: a free one)");
  cmd->add_option("--grace", grace,
                  "seconds the others get to fail on their own after one rank failed, before "
                  "they are stopped")
      ->capture_default_str();
  cmd->add_option("command", command, "the capfilt command after --, e.g. -- train pretrain ...")
      ->required();
  cmd->footer(
      "Each rank runs `capfilt <global options> <command>` with MASTER_ADDR, MASTER_PORT, RANK, "
      "WORLD_SIZE and LOCAL_RANK set. Exit status: 0 all succeeded, 3 stopped by a signal "
      "(resume with --resume), else the first failing rank's status.");
  cmd->callback([&options] {
    o.argv = {self_path()};
    if (options.threads > 0) o.argv.insert(o.argv.end(), {"--threads", std::to_string(options.threads)});
    o.argv.insert(o.argv.end(), {"--device", options.device});
    if (!options.resources_dir.empty()) {
      o.argv.insert(o.argv.end(), {"--resources", options.resources_dir});
    }
    o.argv.insert(o.argv.end(), command.begin(), command.end());
    o.grace = std::chrono::seconds(grace);
    o.on_message = [](const std::string& text) { std::cerr << "capfilt launch: " << text << "\n"; };
    auto r = core::launch_local(o);
    if (!r) throw std::runtime_error(r.status().message());
    if (r->exit_code != 0) throw CLI::RuntimeError(r->exit_code);
  });
}

}  // namespace capfilt::app
