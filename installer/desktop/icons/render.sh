#!/usr/bin/env bash
# Renders the icon's PNG sizes from the SVG after it changes (the PNGs are committed, so building
# the package needs no SVG renderer). Needs rsvg-convert (Debian package librsvg2-bin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
svg=org.capfilt.CapFiltStudio.svg
for size in 16 32 48 64 128 256; do
  mkdir -p "${size}x${size}"
  rsvg-convert -w "$size" -h "$size" "$svg" -o "${size}x${size}/${svg%.svg}.png"
done
