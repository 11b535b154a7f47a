#include "core/image_locator.h"

#include <filesystem>

namespace capfilt::core {
namespace fs = std::filesystem;

Result<ImageLocator> ImageLocator::for_project(db::Project& project) {
  auto roots = project.dataset_roots();
  if (!roots) return roots.status();
  return ImageLocator(std::move(roots.value()));
}

Result<std::string> ImageLocator::find(const std::string& relative_path) const {
  const fs::path rel(relative_path);
  std::error_code ec;
  if (rel.is_absolute()) {
    if (fs::is_regular_file(rel, ec)) return rel.string();
    return Status::not_found("image " + relative_path + " does not exist");
  }
  for (const auto& root : roots_) {
    const fs::path candidate = fs::path(root) / rel;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  std::string tried;
  for (const auto& root : roots_) tried += (tried.empty() ? "" : ", ") + root;
  return Status::not_found("image " + relative_path + " not found under the dataset root" +
                           (roots_.size() == 1 ? " " : "s ") +
                           (tried.empty() ? "(the project records none)" : tried));
}

}  // namespace capfilt::core
