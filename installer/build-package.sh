#!/usr/bin/env bash
# Builds the Debian package from a build folder into OUT (emptied first, so OUT holds exactly one
# capfilt-studio_*.deb), and prints its path. The `package_deb` test runs it.
#
#   installer/build-package.sh BUILD_DIR [OUT]     OUT defaults to BUILD_DIR/package
set -euo pipefail

build="$(cd "${1:?usage: build-package.sh BUILD_DIR [OUT]}" && pwd)"
out="${2:-$build/package}"
[[ -f "$build/CPackConfig.cmake" ]] || { echo "build-package: $build has no CPackConfig.cmake (configure it with cmake first)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
cd "$build"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 || {
  cat "$out/cpack.log" >&2
  echo "build-package: cpack failed (its log: $out/cpack.log)" >&2
  exit 1
}
rm -rf "$out/_CPack_Packages"
debs=("$out"/capfilt-studio_*.deb)
[[ -f "${debs[0]}" ]] || { echo "build-package: cpack wrote no capfilt-studio_*.deb into $out" >&2; exit 1; }
echo "${debs[0]}"
