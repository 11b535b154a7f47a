#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "app/build_info.h"
#include "app/cli/commands.h"
#include "model/runtime.h"

namespace capfilt::app {
namespace fs = std::filesystem;

std::string resource_path(const GlobalOptions& options, const std::string& relative) {
  std::vector<fs::path> roots;
  if (!options.resources_dir.empty()) roots.emplace_back(options.resources_dir);
  if (const char* env = std::getenv("CAPFILT_RESOURCES")) roots.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) roots.push_back(exe.parent_path().parent_path() / "share" / "capfilt");
  roots.emplace_back(CAPFILT_SOURCE_RESOURCES_DIR);
  for (const auto& root : roots) {
    if (fs::exists(root / relative, ec)) return (root / relative).string();
  }
  throw std::runtime_error("resource '" + relative +
                           "' not found; pass --resources DIR or set CAPFILT_RESOURCES");
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void apply_runtime(const GlobalOptions& options) {
  model::configure_threads(options.threads);
  const std::string warning = model::thread_pool_warning(model::runtime_info());
  if (!warning.empty()) std::cerr << warning << "\n";
}

}  // namespace capfilt::app
