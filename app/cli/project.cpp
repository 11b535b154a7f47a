#include "app/cli/commands.h"

namespace capfilt::app {

// Filled in by the issue that brings these subcommands.
void add_project_commands(CLI::App& /*app*/, const GlobalOptions& /*options*/) {}

}  // namespace capfilt::app
