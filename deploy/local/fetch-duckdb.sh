#!/usr/bin/env bash
# Fetches DuckDB's native library (libduckdb.so, DuckDB v1.5.6, linux-x64) from the npm package
# that ships it, because no DuckDB NuGet package restores. Idempotent: does nothing when the
# file is already there. Usage: fetch-duckdb.sh [DEST_DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
package="@duckdb/node-bindings-linux-x64@1.5.6-r.1"
dest="${1:-$root/.cache/native/duckdb-1.5.6}"

if [[ -f "$dest/libduckdb.so" ]]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-duckdb: npm not found; install Node.js/npm: apt-get install -y nodejs npm" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Plain `npm pack` uses the machine's configured registry (never hard-code one here).
if ! (cd "$work" && npm pack --silent "$package" >"$work/pack.log" 2>&1); then
  echo "fetch-duckdb: 'npm pack $package' failed:" >&2
  cat "$work/pack.log" >&2
  exit 1
fi

tgz="$(find "$work" -maxdepth 1 -name '*.tgz' | head -n 1)"
if [[ -z "$tgz" ]]; then
  echo "fetch-duckdb: npm pack produced no .tgz for $package" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work" package/libduckdb.so

mkdir -p "$dest"
# Copy under a temporary name in the destination folder, then rename: a parallel build or an
# interrupted copy never leaves a truncated libduckdb.so behind.
tmp="$(mktemp "$dest/.libduckdb.so.XXXXXX")"
cp "$work/package/libduckdb.so" "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$dest/libduckdb.so"
echo "fetch-duckdb: installed $dest/libduckdb.so from npm package $package"
