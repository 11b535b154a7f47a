#include "core/path_safety.h"

#include <algorithm>
#include <system_error>

namespace capfilt::core {

namespace fs = std::filesystem;

namespace {

bool looks_absolute(std::string_view p) {
  if (!p.empty() && (p[0] == '/' || p[0] == '\\')) return true;  // POSIX root, UNC share
  // A Windows drive ("C:" or "C:\") is absolute too, wherever the file was written.
  return p.size() >= 2 && p[1] == ':' &&
         ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z'));
}

bool is_within(const fs::path& root, const fs::path& candidate) {
  auto r = root.begin(), c = candidate.begin();
  for (; r != root.end(); ++r, ++c) {
    if (r->empty()) continue;  // trailing separator of the root
    if (c == candidate.end() || *r != *c) return false;
  }
  return true;
}

}  // namespace

Result<std::string> normalize_relative_path(std::string_view path) {
  const std::string shown(path);
  if (path.empty()) return Status::invalid("empty image path");
  if (path.find('\0') != std::string_view::npos) {
    return Status::invalid("image path contains a NUL byte");
  }
  if (looks_absolute(path)) {
    return Status::invalid("absolute path \"" + shown +
                           "\" is not allowed; paths must be "
                           "relative to the dataset root");
  }
  std::string unified(path);
  std::replace(unified.begin(), unified.end(), '\\', '/');
  const fs::path normal = fs::path(unified).lexically_normal();
  if (normal.empty() || normal == ".")
    return Status::invalid("image path \"" + shown + "\" names no file");
  if (*normal.begin() == "..") {
    return Status::invalid("path \"" + shown + "\" escapes the dataset root");
  }
  std::string out = normal.generic_string();
  if (!out.empty() && out.back() == '/') {
    return Status::invalid("image path \"" + shown + "\" names a folder");
  }
  return out;
}

Result<fs::path> resolve_inside_root(const fs::path& root, std::string_view relative) {
  Result<std::string> normal = normalize_relative_path(relative);
  if (!normal) return normal.status();
  std::error_code ec;
  const fs::path real_root = fs::weakly_canonical(fs::absolute(root, ec), ec);
  if (ec)
    return Status::io_error("cannot resolve dataset root " + root.string() + ": " + ec.message());
  const fs::path joined = real_root / normal.value();
  // weakly_canonical follows every symlink along the existing part of the path.
  const fs::path real = fs::weakly_canonical(joined, ec);
  if (ec) return Status::io_error("cannot resolve " + joined.string() + ": " + ec.message());
  if (!is_within(real_root, real)) {
    return Status::invalid("path \"" + std::string(relative) +
                           "\" leads out of the dataset root "
                           "through a symlink (to " +
                           real.string() + ")");
  }
  return real;
}

}  // namespace capfilt::core
