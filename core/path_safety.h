#pragma once
// Keeps dataset paths inside the dataset root. Annotation files and tar shards come from the web;
// a path such as "../../etc/passwd", "/etc/passwd" or a symlink pointing out of the dataset must
// never be read, written or recorded.

#include <filesystem>
#include <string>
#include <string_view>

#include "db/status.h"

namespace capfilt::core {

// Normalises a relative path as written in a dataset ('/' or '\' separators, "./" and "a/../"
// segments) into a clean '/'-separated relative path. Refuses (kInvalid, message says why) an
// empty path, an absolute one ("/x", "C:\x", "\\server\x") and one whose normal form leaves the
// root ("../x", "a/../../x"). Purely lexical: the file system is not touched.
Result<std::string> normalize_relative_path(std::string_view path);

// normalize_relative_path, then resolves against `root` following symlinks: refuses a path whose
// real location lies outside the real root (a symlink pointing out). The file need not exist
// (missing files are reported by whoever opens them). Returns the absolute path inside the root.
Result<std::filesystem::path> resolve_inside_root(const std::filesystem::path& root,
                                                  std::string_view relative);

}  // namespace capfilt::core
