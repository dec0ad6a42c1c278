#!/usr/bin/env bash
# Vendors the report page's JavaScript at build time (the CLI's VendorReportAssets target runs this), so the page
# needs no internet when served: npm installs pinned packages into a cache once, then the dist files are copied
# into the served folder (git-ignored). Usage: vendor-assets.sh <dest folder> <npm cache folder>
set -euo pipefail
dest="$1"
cache="$2"
packages=(chart.js@4.6.2 topojson-client@3.1.0 world-atlas@2.0.2)
if ! command -v npm >/dev/null 2>&1; then
  echo "vendor-assets: npm not found; run deploy/local/ensure-prereqs.sh (it installs nodejs and npm), then build again." >&2
  exit 1
fi
mkdir -p "$cache" "$dest"
stamp="$cache/.installed"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "${packages[*]}" ]]; then
  if ! npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error "${packages[@]}" >"$cache/install.log" 2>&1; then
    echo "vendor-assets: 'npm install ${packages[*]}' failed (log: $cache/install.log):" >&2
    tail -5 "$cache/install.log" >&2
    exit 1
  fi
  echo "${packages[*]}" >"$stamp"
fi
modules="$cache/node_modules"
cp "$modules/chart.js/dist/chart.umd.min.js" "$dest/chart.umd.min.js"
cp "$modules/topojson-client/dist/topojson-client.min.js" "$dest/topojson-client.min.js"
cp "$modules/world-atlas/land-110m.json" "$dest/land-110m.json"
cp "$modules/chart.js/LICENSE.md" "$dest/chart.js.LICENSE.md" 2>/dev/null || true
