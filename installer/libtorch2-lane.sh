#!/usr/bin/env bash
# The LibTorch 2.x lane: builds model/ and its tests against Debian 13's LibTorch (2.6, CPU) inside
# a Debian 13 root made with debootstrap, and runs the default suite there (ctest -LE slow). CI
# calls it after the main suite, so every change is tested on LibTorch 1.13 and 2.x.
#
#   installer/libtorch2-lane.sh          build the root if needed, build, test
#
# The root is cached in $LANE_ROOT (default ~/.cache/capfilt/trixie-root) and reused when present,
# also by other clones; its build folder (/build inside the root) is kept, and the compiler cache
# ($LANE_CCACHE_DIR, default ~/.cache/capfilt/trixie-ccache) makes a fresh clone's build mostly
# cache hits. Delete the folders to start from scratch.
#
# Exit status: 0 when every test passes, or when the Debian 13 packages cannot be fetched or the
# disk has no room for the root (the lane is then SKIPPED, said loudly on stdout and stderr);
# non-zero when the build or a test fails.
# Needs root (debootstrap and chroot), or sudo.
# Environment: LANE_ROOT, LANE_MIRROR (default http://deb.debian.org/debian), JOBS, CTEST_ARGS,
# LANE_MIN_FREE_GB (default 3: the free space making the root needs, else the lane is skipped).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(dirname "$here")"
# The root and the compiler cache live outside the checkout, so every clone on this machine (CI
# clones afresh each time) reuses them: only the first run pays for debootstrap and a full build.
cache_home="${XDG_CACHE_HOME:-$HOME/.cache}/capfilt"
root="${LANE_ROOT:-$cache_home/trixie-root}"
ccache_dir="${LANE_CCACHE_DIR:-$cache_home/trixie-ccache}"
mirror="${LANE_MIRROR:-http://deb.debian.org/debian}"
jobs="${JOBS:-$(nproc)}"
suite=trixie
# What the lane needs inside the root. libopenblas0-openmp: LibTorch's BLAS, sharing its OpenMP
# pool (see installer/dev.sh); googletest brings the GoogleTest sources CMake's GTest module finds.
packages=(g++ cmake make ccache libtorch-dev libgloo-dev nlohmann-json3-dev libgtest-dev libgmock-dev googletest
          libopenblas0-openmp)
marker="$root/.capfilt-lane-packages"

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "libtorch2-lane: needs root or sudo (debootstrap, chroot)" >&2; exit 1
  fi
fi

skip() {
  local msg="SKIPPED: the LibTorch 2.x lane did not run: $1"
  printf '\n==========\n%s\n==========\n\n' "$msg"
  printf '%s\n' "$msg" >&2
  exit 0
}

# Runs a command inside the root with /proc and /dev mounted and a clean environment.
in_root() {
  $sudo cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  $sudo env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 CCACHE_DIR=/ccache \
    CCACHE_MAXSIZE=5G DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}

mount_root() {
  mountpoint -q "$root/proc" || $sudo mount -t proc proc "$root/proc"
  mountpoint -q "$root/dev" || $sudo mount --bind /dev "$root/dev"
  mkdir -p "$ccache_dir"
  $sudo mkdir -p "$root/ccache"
  mountpoint -q "$root/ccache" || $sudo mount --bind "$ccache_dir" "$root/ccache"
}

unmount_root() {
  for m in ccache dev proc; do
    if mountpoint -q "$root/$m" 2>/dev/null; then $sudo umount "$root/$m" || $sudo umount -l "$root/$m"; fi
  done
}
trap unmount_root EXIT
trap 'exit 143' TERM INT  # so the mounts are released when CI's timeout stops the lane

# Fails the lane only for a mistake of ours (a package that does not exist); anything else an apt
# step reports (no network, mirror down) skips it.
apt_step() {
  local log
  log="$(mktemp)"
  if ! in_root "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    if grep -qE "Unable to locate package|has no installation candidate" "$log"; then
      rm -f "$log"; echo "libtorch2-lane: a package named in installer/libtorch2-lane.sh does not exist in Debian 13" >&2
      exit 1
    fi
    rm -f "$log"; skip "apt-get inside the Debian 13 root failed (see above)"
  fi
  rm -f "$log"
}

make_root() {
  command -v debootstrap >/dev/null || skip "debootstrap is not installed (installer/debian-packages.txt lists it)"
  local tmp="$root.partial"
  $sudo rm -rf "$tmp"
  mkdir -p "$(dirname "$root")"
  # A made root with its build folder takes 2.2 GB (measured), more while the packages download;
  # a disk that fills half-way fails the lane for no fault of the code, so it is skipped instead.
  local free_kb need_kb=$((${LANE_MIN_FREE_GB:-3} * 1024 * 1024))
  free_kb="$(df -Pk "$(dirname "$root")" | awk 'NR == 2 { print $4 }')"
  if [[ -n "$free_kb" ]] && ((free_kb < need_kb)); then
    skip "$((free_kb / 1024)) MB free under $(dirname "$root"); the Debian 13 root needs about $((need_kb / 1024 / 1024)) GB"
  fi
  echo "==> libtorch2-lane: debootstrap --variant=minbase $suite into $root"
  local log
  log="$(mktemp)"
  if ! $sudo debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"
    $sudo rm -rf "$tmp"
    skip "debootstrap of Debian 13 ($suite) from $mirror failed (see above)"
  fi
  rm -f "$log"
  $sudo mv "$tmp" "$root"
}

install_packages() {
  local want="${packages[*]}"
  [[ -f "$marker" && "$(cat "$marker")" == "$want" ]] && return 0
  echo "==> libtorch2-lane: installing ${packages[*]} in the root"
  apt_step apt-get update -q
  apt_step apt-get install -y -q --no-install-recommends "${packages[@]}"
  # As on the host: the OpenMP OpenBLAS, not the pthread one, when both are there.
  local arch dir
  arch="$(in_root dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || in_root gcc -dumpmachine)"
  dir="/usr/lib/$arch/openblas-openmp"
  for lib in libblas.so.3 liblapack.so.3; do
    if [[ -e "$root$dir/$lib" ]]; then
      in_root update-alternatives --set "$lib-$arch" "$dir/$lib" >/dev/null || true
    fi
  done
  in_root apt-get clean
  echo "$want" | $sudo tee "$marker" >/dev/null
}

# The working tree (not build/ or .git), and ../shared when it sits beside the checkout, copied
# into the root with their timestamps, so the kept build folder recompiles only what changed.
copy_sources() {
  $sudo rm -rf "$root/src" "$root/shared"
  $sudo mkdir -p "$root/src"
  tar -C "$src" --exclude=./build --exclude=./.git -cf - . | $sudo tar -C "$root/src" -xf -
  if [[ -d "$src/../shared" ]]; then
    $sudo mkdir -p "$root/shared"
    tar -C "$src/../shared" -cf - . | $sudo tar -C "$root/shared" -xf -
  fi
}

start=$SECONDS
phase() { echo "==> libtorch2-lane: $1 after $((SECONDS - start)) s"; }
[[ -d "$root" && -x "$root/usr/bin/apt-get" ]] || make_root
phase "root ready"
mount_root
install_packages
phase "packages ready"
copy_sources
torch_version="$(in_root dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo unknown)"
echo "==> libtorch2-lane: building model/ and its tests against libtorch-dev $torch_version ($jobs jobs)"
status=0
in_root bash -c "cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DCAPFILT_MODEL_ONLY=ON >/dev/null &&
  cmake --build /build -j $jobs" || status=$?
phase "build done"
if ((status == 0)); then
  in_root bash -c "cd /build && ctest --output-on-failure -LE slow -j $jobs ${CTEST_ARGS:-}" || status=$?
fi
echo "==> libtorch2-lane: $( ((status == 0)) && echo passed || echo FAILED ) in $((SECONDS - start)) s (LibTorch $torch_version)"
exit "$status"
