#!/usr/bin/env bash
# Checks the Debian package installer/build-package.sh wrote: its control fields (name, version,
# the Depends dpkg-shlibdeps computed), its files (both programs, the resources, the desktop entry,
# its icon, the AppStream metainfo, nothing outside /usr), the desktop entry and the metainfo with
# their validators, that the programs' libraries all resolve, and that capfilt, run from the
# unpacked tree, finds its resources there. The `package_deb_contents` test runs it.
#
#   installer/check-package.sh DIR       DIR holds one capfilt-studio_*.deb
#
# Needs dpkg-dev, desktop-file-utils and appstream (installer/debian-packages.txt).
set -euo pipefail

dir="${1:?usage: check-package.sh DIR}"
app_id="org.capfilt.CapFiltStudio"
debs=("$dir"/capfilt-studio_*.deb)
[[ -f "${debs[0]}" ]] || { echo "FAIL: no capfilt-studio_*.deb in $dir (run installer/build-package.sh)" >&2; exit 1; }
((${#debs[@]} == 1)) || { echo "FAIL: ${#debs[@]} packages in $dir, expected one" >&2; exit 1; }
deb="${debs[0]}"
for tool in dpkg-deb desktop-file-validate appstreamcli; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (installer/debian-packages.txt lists its package)" >&2; exit 1; }
done

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# --- control fields
field() { dpkg-deb --field "$deb" "$1"; }
[[ "$(field Package)" == capfilt-studio ]] && ok "Package: capfilt-studio" || fail "Package is '$(field Package)'"
version="$(field Version)"
[[ "$(basename "$deb")" == "capfilt-studio_${version}_$(field Architecture).deb" ]] &&
  ok "file name matches Version $version" || fail "file name $(basename "$deb") does not match Version $version"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "Version '$version' is not the project's x.y.z"
[[ "$(field Architecture)" == "$(dpkg --print-architecture)" ]] && ok "Architecture: $(field Architecture)" ||
  fail "Architecture is '$(field Architecture)'"
depends="$(field Depends)"
echo "Depends: $depends"
for lib in libtorch libqt6widgets6 libqt6gui6 libqt6core6 libopencv-imgcodecs libsqlite3 libstdc++6; do
  [[ "$depends" == *"$lib"* ]] && ok "Depends names $lib" || fail "Depends does not name $lib (dpkg-shlibdeps did not run?)"
done
[[ "$(field Recommends)" == *libopenblas0-openmp* ]] && ok "Recommends the OpenMP OpenBLAS" ||
  fail "Recommends is '$(field Recommends)', not libopenblas0-openmp"
[[ -n "$(field Maintainer)" && -n "$(field Description)" ]] || fail "Maintainer or Description is empty"

# --- files
contents="$(dpkg-deb --contents "$deb")"
has() {  # has MODE-PREFIX PATH: PATH is in the package (with a mode starting MODE-PREFIX)
  if awk -v m="$1" -v p="./$2" '$6 == p && index($1, m) == 1 { found = 1 } END { exit !found }' <<<"$contents"; then
    ok "contains /$2"
  else
    fail "does not contain /$2${1:+ with mode $1}"
  fi
}
has -rwxr-xr-x usr/bin/capfilt
has -rwxr-xr-x usr/bin/capfilt-studio
has -rw-r--r-- usr/share/capfilt/bert-base-uncased/vocab.txt
has -rw-r--r-- usr/share/capfilt/bert-base-uncased/NOTICE.md
has -rw-r--r-- "usr/share/applications/$app_id.desktop"
has -rw-r--r-- "usr/share/metainfo/$app_id.metainfo.xml"
has -rw-r--r-- "usr/share/icons/hicolor/scalable/apps/$app_id.svg"
for size in 16 32 48 64 128 256; do has -rw-r--r-- "usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png"; done
outside="$(awk '{ print $6 }' <<<"$contents" | grep -vE '^\./(usr/?)?$|^\./usr/(bin|share)(/|$)' || true)"
[[ -z "$outside" ]] && ok "nothing outside /usr/bin and /usr/share" || fail "unexpected paths: $outside"
writable="$(awk '$1 ~ /^d....w|^d.......w/ { print $6 }' <<<"$contents")"
[[ -z "$writable" ]] && ok "no group- or world-writable directory" || fail "writable directories: $writable"

# --- unpacked: metadata validators, libraries, resources
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
desktop="$tmp/usr/share/applications/$app_id.desktop"
metainfo="$tmp/usr/share/metainfo/$app_id.metainfo.xml"
if [[ -f "$desktop" ]]; then
  if out="$(desktop-file-validate "$desktop" 2>&1)" && [[ -z "$out" ]]; then ok "desktop-file-validate"; else
    fail "desktop-file-validate: $out"
  fi
  exec_line="$(sed -n 's/^Exec=//p' "$desktop")"
  program="${exec_line%% *}"
  [[ "$program" != */* && -x "$tmp/usr/bin/$program" ]] && ok "Exec=$exec_line runs /usr/bin/$program" ||
    fail "Exec=$exec_line does not name a program of the package's /usr/bin"
  icon="$(sed -n 's/^Icon=//p' "$desktop")"
  [[ -f "$tmp/usr/share/icons/hicolor/scalable/apps/$icon.svg" ]] && ok "Icon=$icon is in the hicolor theme" ||
    fail "Icon=$icon has no file in the package's hicolor theme"
fi
if [[ -f "$metainfo" ]]; then
  if out="$(appstreamcli validate --no-net "$metainfo" 2>&1)"; then ok "appstreamcli validate --no-net"; else
    fail "appstreamcli validate --no-net: $out"
  fi
  grep -q "<id>$app_id</id>" "$metainfo" && grep -q "<launchable type=\"desktop-id\">$app_id.desktop</launchable>" "$metainfo" &&
    ok "metainfo id and launchable match the desktop entry" || fail "metainfo id or launchable is not $app_id"
  grep -q "<release version=\"$version\"" "$metainfo" && ok "metainfo release $version" ||
    fail "metainfo has no release $version"
fi
for program in capfilt capfilt-studio; do
  bin="$tmp/usr/bin/$program"
  [[ -x "$bin" ]] || continue
  missing="$(ldd "$bin" | grep 'not found' || true)"
  [[ -z "$missing" ]] && ok "$program: every library resolves" || fail "$program: $missing"
  runpath="$(readelf -d "$bin" | grep -E 'RPATH|RUNPATH' || true)"
  [[ -z "$runpath" ]] && ok "$program: no RPATH into the build tree" || fail "$program: $runpath"
done
if [[ -x "$tmp/usr/bin/capfilt" ]]; then
  # Run from the unpacked tree without the source tree's fallback mattering: the unpacked
  # share/capfilt comes before it, so doctor must name that one.
  version_out="$("$tmp/usr/bin/capfilt" --version)"
  [[ "$version_out" == "capfilt $version" ]] && ok "capfilt --version: $version_out" || fail "capfilt --version: $version_out"
  vocab="$(CAPFILT_THREADS=1 "$tmp/usr/bin/capfilt" doctor | sed -n 's/^vocabulary: *//p')"
  [[ "$vocab" == "$tmp/usr/share/capfilt/bert-base-uncased/vocab.txt" ]] &&
    ok "capfilt finds its resources beside itself ($vocab)" || fail "capfilt doctor: vocabulary: '$vocab'"
fi

if ((failures)); then
  echo "$failures check(s) failed for $(basename "$deb")" >&2
  exit 1
fi
echo "all checks passed for $(basename "$deb")"
