#!/usr/bin/env bash
# Installs what is missing, builds, and then runs the demo or the tests.
#   installer/dev.sh run    build and run the CLI demo (the studio once it exists)
#   installer/dev.sh test   build and run the default test suite (CI calls this)
#   installer/dev.sh build  only install and build
# Environment: BUILD_DIR (default build), JOBS (default: number of cores), CTEST_ARGS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
action="${1:-run}"
(($#)) && shift  # what follows the action word is passed on to the demo
build_dir="${BUILD_DIR:-$root/build}"
jobs="${JOBS:-$(nproc)}"

install_packages() {
  local missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < "$here/debian-packages.txt"
  if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

build() {
  echo "==> configuring and building in $build_dir ($jobs jobs)"
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-}
  cmake --build "$build_dir" -j "$jobs"
}

# Debian's alternatives pick the pthread OpenBLAS when both builds are installed. Its thread pool
# busy-waits against LibTorch's OpenMP pool (decoding measured 2-4.5x slower), so the OpenMP build,
# which shares LibTorch's pool, is selected for the BLAS and LAPACK LibTorch loads.
select_openmp_blas() {
  local arch dir sudo=""
  arch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
  dir="/usr/lib/$arch/openblas-openmp"
  [[ -e "$dir/libblas.so.3" ]] || return 0
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  for lib in libblas.so.3 liblapack.so.3; do
    if [[ "$(readlink -f "/usr/lib/$arch/$lib")" != "$(readlink -f "$dir/$lib")" ]]; then
      echo "==> selecting the OpenMP OpenBLAS for $lib"
      $sudo update-alternatives --set "$lib-$arch" "$dir/$lib"
    fi
  done
}

install_packages
select_openmp_blas
build
case "$action" in
  build) ;;
  run)
    if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x "$build_dir/app/capfilt-studio" ]]; then
      # A display: the studio on the demo project (built by `capfilt demo-project` the first time).
      "$build_dir/app/capfilt-studio" --demo "$@"
    else
      "$build_dir/app/capfilt" doctor
      "$build_dir/app/capfilt" demo "$@"
    fi
    ;;
  test)
    cd "$build_dir"
    rm -rf tests/scratch  # what failing tests of earlier runs left
    ctest --output-on-failure -LE slow -j "$jobs" ${CTEST_ARGS:-}
    ;;
  *)
    echo "usage: $0 run|test|build" >&2
    exit 2
    ;;
esac
