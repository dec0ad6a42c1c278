#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian 12 machine, only when it is missing:
# the .NET SDK must already be there; Node.js/npm (to fetch DuckDB's native library) comes
# from Debian's packages. Prints one line per thing it did; silent when nothing was needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "ensure-prereqs: the .NET SDK 10 is required (dotnet not found on PATH). Install it, then re-run." >&2
  exit 1
fi

apt_install() {
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "ensure-prereqs: installing $* with apt-get"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

"$root/deploy/local/fetch-duckdb.sh"
