#include "app/cli/interrupt.h"

#include <csignal>
#include <cstdlib>
#include <unistd.h>

#include <atomic>

namespace capfilt::app {
namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void on_stop_signal(int signal) {
  if (g_stop_requested.exchange(true)) _exit(128 + signal);  // asked twice: stop now
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_stop_requested.load(); }

}  // namespace capfilt::app
