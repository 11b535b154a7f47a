#!/usr/bin/env bash
# Installs the Debian package in a clean Debian 12 (bookworm) root, as a user would
# (`apt install ./capfilt-studio_*.deb`), runs both programs there, then removes it and checks
# that nothing of it is left. The slow test `package_deb_install_bookworm` runs it.
#
#   installer/install-check-bookworm.sh [DIR]    DIR holds one capfilt-studio_*.deb (default
#                                                build/package, written by build-package.sh)
#
# In the root: capfilt --version and doctor (which must find the vocabulary in /usr/share/capfilt:
# the root has no source tree to fall back on), the tiny demo (tokenizes with that vocabulary), the
# studio started by its desktop entry's Exec line on a small project (offscreen, --screenshot),
# then `apt remove --purge` and `apt autoremove --purge`, after which no file of the package nor
# any path named capfilt may remain and /usr must be as before the install.
#
# The pristine root is made once with debootstrap and cached in $BOOKWORM_ROOT (default
# ~/.cache/capfilt/bookworm-root); each run works on a copy, deleted afterwards (KEEP_ROOT=1 keeps
# it). Downloaded packages are kept in ~/.cache/capfilt/bookworm-apt-archives, so only the first
# run downloads LibTorch, Qt and OpenCV. The mirrors are the host's bookworm ones when apt is set
# up for bookworm here (BOOKWORM_MIRROR, BOOKWORM_SECURITY override), else deb.debian.org.
#
# Exit status: 0 when every check passes; 77 (ctest: skipped) when the root cannot be made or
# the packages cannot be fetched (no network, no root); 1 when a check fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg_dir="${1:-$(dirname "$here")/build/package}"
cache_home="${XDG_CACHE_HOME:-$HOME/.cache}/capfilt"
base="${BOOKWORM_ROOT:-$cache_home/bookworm-root}"
archives="$cache_home/bookworm-apt-archives"
app_id="org.capfilt.CapFiltStudio"
suite=bookworm

host_mirror() {  # host_mirror RELEASE: the URI apt uses here for RELEASE, if any
  apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null | awk -v r="$1" '$1 == r { print $2; exit }'
}
mirror="${BOOKWORM_MIRROR:-$(host_mirror $suite)}"
mirror="${mirror:-http://deb.debian.org/debian/}"
security="${BOOKWORM_SECURITY:-$(host_mirror $suite-security)}"
security="${security:-http://deb.debian.org/debian-security/}"

skip() {
  local msg="SKIPPED: the bookworm install check did not run: $1"
  printf '\n==========\n%s\n==========\n\n' "$msg"
  printf '%s\n' "$msg" >&2
  exit 77
}
die() { echo "FAIL: $*" >&2; exit 1; }
start=$SECONDS
phase() { echo "==> install-check: $1 ($((SECONDS - start)) s)"; }

debs=("$pkg_dir"/capfilt-studio_*.deb)
[[ -f "${debs[0]}" ]] || die "no capfilt-studio_*.deb in $pkg_dir (run installer/build-package.sh BUILD_DIR)"
((${#debs[@]} == 1)) || die "${#debs[@]} packages in $pkg_dir, expected one"
deb="${debs[0]}"
version="$(dpkg-deb --field "$deb" Version)"

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null && sudo="sudo" || skip "needs root or sudo (debootstrap, chroot, mount)"
fi

work="$cache_home/bookworm-run.$$"
in_root() {
  $sudo env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive chroot "$work" "$@"
}
unmount_all() {
  for m in var/cache/apt/archives dev proc; do
    if mountpoint -q "$work/$m" 2>/dev/null; then $sudo umount "$work/$m" || $sudo umount -l "$work/$m"; fi
  done
}
cleanup() {
  unmount_all
  if [[ -d "$work" && -z "${KEEP_ROOT:-}" ]]; then $sudo rm -rf "$work"; fi
  [[ -n "${KEEP_ROOT:-}" ]] && echo "install-check: the root is kept in $work"
  return 0
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# Runs an apt step in the root and shows the last lines of its output; a failure to fetch
# (network, mirror) skips, any other failure fails.
apt_step() {
  local log
  log="$(mktemp)"
  if ! in_root "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    if grep -qE "Temporary failure resolving|Could not connect|Failed to fetch|Unable to connect" "$log"; then
      rm -f "$log"; skip "apt could not reach $mirror (see above)"
    fi
    rm -f "$log"; die "'$*' failed in the bookworm root (see above)"
  fi
  tail -n 2 "$log"; rm -f "$log"
}

make_base() {
  command -v debootstrap >/dev/null || skip "debootstrap is not installed (installer/debian-packages.txt lists it)"
  local tmp="$base.partial" log
  $sudo rm -rf "$tmp"
  mkdir -p "$(dirname "$base")"
  phase "debootstrap --variant=minbase $suite from $mirror into $base"
  log="$(mktemp)"
  if ! $sudo debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"; $sudo rm -rf "$tmp"
    skip "debootstrap of Debian 12 from $mirror failed (see above)"
  fi
  rm -f "$log"
  # The sources of an installed Debian 12: the release, its updates and its security updates.
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$mirror" "$suite" "$mirror" "$suite" "$security" "$suite" | $sudo tee "$tmp/etc/apt/sources.list" >/dev/null
  $sudo rm -rf "$tmp/var/cache/apt/archives"/*.deb
  $sudo mv "$tmp" "$base"
}

# Every path of the root outside the volatile places, with its type, mode and (files) size: the
# state the package must leave as it found it. (A directory's own size can grow and never shrink.)
snapshot() {
  in_root find / -xdev \( -path /proc -o -path /dev -o -path /sys -o -path /run -o -path /tmp \
    -o -path /var -o -path /root \) -prune -o -type d -printf '%p d %m\n' -o -printf '%p %y %m %s\n' |
    LC_ALL=C sort
}

[[ -x "$base/usr/bin/apt-get" ]] || make_base
phase "pristine root ready ($base)"
$sudo rm -rf "$work"
$sudo cp -a "$base" "$work"
mkdir -p "$archives/partial"
$sudo mount -t proc proc "$work/proc"
$sudo mount --bind /dev "$work/dev"
$sudo mount --bind "$archives" "$work/var/cache/apt/archives"
$sudo cp -L /etc/resolv.conf "$work/etc/resolv.conf" 2>/dev/null || true
# No service starts inside the root.
printf '#!/bin/sh\nexit 101\n' | $sudo tee "$work/usr/sbin/policy-rc.d" >/dev/null
$sudo chmod 755 "$work/usr/sbin/policy-rc.d"
$sudo mkdir -p "$work/tmp/pkg"
$sudo cp "$deb" "$work/tmp/pkg/"
$sudo chmod -R a+rX "$work/tmp/pkg"
phase "working copy ready ($work)"

# Up to date, as a user's Debian 12 is: an install that needs a newer library than the release's
# then does not show up as a change to /usr.
apt_step apt-get update -q
apt_step apt-get upgrade -y -q -o APT::Keep-Downloaded-Packages=true
before="$(snapshot)"
auto_before="$(in_root apt-mark showauto)"
phase "installing $(basename "$deb") with apt"
# apt itself deletes what it downloaded; kept here so the next run need not download it again.
apt_step bash -c "cd /tmp/pkg && apt install -y -q -o APT::Keep-Downloaded-Packages=true ./$(basename "$deb")"
[[ "$(in_root dpkg-query -W -f='${Status}' capfilt-studio)" == "install ok installed" ]] ||
  die "capfilt-studio is not installed"
phase "installed ($(in_root dpkg-query -W -f='${Installed-Size}' capfilt-studio) KiB, with dependencies: $(in_root du -sm /usr | cut -f1) MiB in /usr)"

# --- the programs, where a user's shell finds them
[[ "$(in_root bash -c 'command -v capfilt capfilt-studio' | tr '\n' ' ')" == "/usr/bin/capfilt /usr/bin/capfilt-studio " ]] ||
  die "capfilt and capfilt-studio are not both on the PATH in /usr/bin"
out="$(in_root capfilt --version)"
[[ "$out" == "capfilt $version" ]] || die "capfilt --version printed '$out'"
echo "capfilt --version: $out"
doctor="$(in_root capfilt doctor)" || die "capfilt doctor failed: $doctor"
echo "$doctor" | sed 's/^/  doctor: /'
grep -qx 'vocabulary: *\/usr\/share\/capfilt\/bert-base-uncased\/vocab.txt' <<<"$doctor" ||
  die "capfilt doctor did not find the vocabulary in /usr/share/capfilt"
grep -q '^BLAS threading: *OpenMP' <<<"$doctor" ||
  die "capfilt doctor: not the OpenMP OpenBLAS the package recommends"
in_root capfilt demo --pairs 4 --steps 2 --log-every 1 >/dev/null || die "capfilt demo failed in the root"
echo "capfilt demo (tiny model, 2 steps, the installed vocabulary): ok"
out="$(in_root env QT_QPA_PLATFORM=offscreen capfilt-studio --version 2>&1)"
[[ "$out" == *"$version"* ]] || die "capfilt-studio --version printed '$out'"
echo "capfilt-studio --version: $out"

# --- the studio as the desktop menu starts it: the entry's Exec line with a project for %f
desktop="/usr/share/applications/$app_id.desktop"
exec_line="$(in_root sed -n 's/^Exec=//p' "$desktop")"
[[ -n "$exec_line" ]] || die "no Exec line in $desktop"
in_root capfilt demo-data /tmp/demo --count 12 --size 64 >/dev/null 2>&1 || die "capfilt demo-data failed"
in_root capfilt import /tmp/demo.capfilt /tmp/demo/web_train.json --source web --split train >/dev/null 2>&1 ||
  die "capfilt import failed"
command_line="${exec_line//%f//tmp/demo.capfilt} --screenshot /tmp/shots"
shots="$(in_root env QT_QPA_PLATFORM=offscreen bash -c "$command_line" 2>/dev/null)" ||
  die "the desktop entry's command '$command_line' failed"
count="$(grep -c '\.png$' <<<"$shots" || true)"
((count > 0)) || die "the studio wrote no screenshot"
keep_shots="$pkg_dir/bookworm-screenshots"
rm -rf "$keep_shots" && mkdir -p "$keep_shots" && cp "$work"/tmp/shots/*.png "$keep_shots/"
echo "desktop entry Exec=$exec_line: the studio opened a project and rendered $count views ($keep_shots)"

# --- removal
phase "removing with apt remove --purge"
package_files="$(dpkg-deb --contents "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }')"
apt_step apt remove --purge -y -q capfilt-studio
if in_root dpkg -s capfilt-studio >/dev/null 2>&1; then die "dpkg still knows capfilt-studio after the purge"; fi
left=""
while read -r f; do [[ -e "$work$f" ]] && left+="$f "; done <<<"$package_files"
for d in /usr/share/capfilt /var/lib/dpkg/info/capfilt-studio.list; do [[ -e "$work$d" ]] && left+="$d "; done
[[ -z "$left" ]] || die "files of the package left after the purge: $left"
echo "apt remove --purge: no file of the package left"
apt_step apt autoremove --purge -y -q
# What autoremove keeps because a package of the base system recommends it (apt recommends
# ca-certificates) is Debian's doing; one the package itself depends on or recommends must go.
ours="$(dpkg-deb --field "$deb" Depends Recommends | sed 's/^[A-Za-z]*: //; s/([^)]*)//g' | tr ',|' '\n\n' | awk 'NF { print $1 }')"
kept="$(comm -13 <(LC_ALL=C sort <<<"$auto_before") <(in_root apt-mark showauto | LC_ALL=C sort))"
leaked="$(comm -12 <(LC_ALL=C sort -u <<<"$ours") <(sed 's/:.*//' <<<"$kept" | LC_ALL=C sort -u))"
[[ -z "$leaked" ]] || die "the package's dependencies left after autoremove: $leaked"
# Anything named after the package anywhere but the user's home (the studio's settings, which a
# purge leaves as every package does) and the scratch files of this check.
named="$(in_root find / -xdev \( -path /proc -o -path /dev -o -path /sys -o -path /root -o -path /tmp \) -prune \
  -o -iname '*capfilt*' -print)"
[[ -z "$named" ]] || die "left after the purge: $named"
# /usr must be as before (but for the packages kept above); elsewhere the dependencies' maintainer
# scripts leave what Debian leaves after any purge (system groups, machine-id, ld.so.cache, the
# kept ca-certificates' links), shown for the record.
after="$(snapshot)"
kept_files="$(for p in $kept; do in_root dpkg-query -L "$p"; done | LC_ALL=C sort -u)"
# (Policy lets maintainer scripts make empty directories in /usr/local: ca-certificates does.)
changed_usr="$(diff <(grep '^/usr' <<<"$before") <(grep '^/usr' <<<"$after") | grep '^[<>]' |
  awk '!($2 ~ /^\/usr\/local\// && $3 == "d") { print $2 }' | LC_ALL=C sort -u |
  comm -23 - <(echo "$kept_files") || true)"
[[ -z "$changed_usr" ]] || { echo "$changed_usr" | head -n 20 >&2; die "/usr differs from before the install (above)"; }
others="$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '$2 !~ /^\/usr/ { print $2 }' | LC_ALL=C sort -u || true)"
echo "apt autoremove --purge: the package's dependencies removed, no path named capfilt anywhere, /usr as before (but for the packages kept)"
echo "  kept by the base system's recommends: $(tr '\n' ' ' <<<"${kept:-nothing}")"
echo "  paths outside /usr and /var that differ: $(grep -c . <<<"$others" || true), e.g. $(head -n 8 <<<"$others" | tr '\n' ' ')"
phase "passed: capfilt-studio $version installed, ran and was removed cleanly in Debian 12"
