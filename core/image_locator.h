#pragma once
// Finds the file of a project's image. Images are stored by path relative to the dataset root of
// the import that brought them in; a project may hold several imports with different roots.

#include <string>
#include <vector>

#include "db/project.h"

namespace capfilt::core {

class ImageLocator {
 public:
  ImageLocator() = default;
  explicit ImageLocator(std::vector<std::string> roots) : roots_(std::move(roots)) {}
  // The dataset roots the project's imports recorded, newest first.
  static Result<ImageLocator> for_project(db::Project& project);

  // The absolute file of `relative_path`: an absolute path as it is; else the first root under
  // which the file exists. kNotFound naming the path and the roots tried when none has it.
  Result<std::string> find(const std::string& relative_path) const;
  const std::vector<std::string>& roots() const { return roots_; }

 private:
  std::vector<std::string> roots_;
};

}  // namespace capfilt::core
