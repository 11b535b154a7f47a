// SIGINT/SIGTERM -> a flag long jobs read between steps and batches (core/stop_signal.h).

#include <atomic>
#include <csignal>

#include "core/stop_signal.h"

#include <unistd.h>

namespace capfilt::core {
namespace {

// A signal handler can reach only static storage; this flag is the one piece of process state.
std::atomic<bool> g_stop_requested{false};

extern "C" void on_stop_signal(int signal) {
  if (g_stop_requested.exchange(true)) _exit(128 + signal);  // asked twice: stop now
}

}  // namespace

std::function<bool()> install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return [] { return g_stop_requested.load(); };
}

}  // namespace capfilt::core
