#pragma once
// SIGINT and SIGTERM ask a long job to stop: it finishes the batch or step in hand, stores it and
// exits cleanly. The flag is process-wide because signals are.

namespace capfilt::app {

// Installs the handlers (idempotent). A second signal of either kind ends the process at once.
void install_interrupt_handlers();
// True once SIGINT or SIGTERM arrived.
bool interrupted();

}  // namespace capfilt::app
