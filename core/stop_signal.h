#pragma once
// SIGINT and SIGTERM ask a long job (training, CapFilt, a demo build) to stop: it finishes the
// step or batch in hand, stores it and exits cleanly. A second signal ends the process at once.
// The flag is process-wide because signals are.

#include <functional>

namespace capfilt::core {

// Installs the handlers (idempotent). Returns the flag's reader: true once a signal arrived.
std::function<bool()> install_stop_signal_handlers();

}  // namespace capfilt::core
