#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian 12 machine, only when it is missing:
# the .NET SDK must already be there; librdkafka1 (the native library of the Kafka / Event Hubs
# event log) comes from Debian's packages. DuckDB's native library ships inside the DuckDB.NET
# package. Node.js/npm: the CLI's build vendors the report page's JavaScript with npm
# (services/BaloyiBank.Cli/Report/vendor-assets.sh). With --tests (test.sh), also Debian's chromium,
# which the report page's browser test drives through Playwright (it cannot download browsers here).
# Prints one line per thing it did; silent when nothing was needed.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "ensure-prereqs: the .NET SDK 10 is required (dotnet not found on PATH). Install it, then re-run." >&2
  exit 1
fi

apt_install() {
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "ensure-prereqs: installing $* with apt-get"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

# Confluent.Kafka loads the system's librdkafka.so.1 (librdkafka.redist is not on the package source).
if ! dpkg -s librdkafka1 >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'librdkafka\.so\.1 '; then
  apt_install librdkafka1
  if ! ldconfig -p 2>/dev/null | grep -q 'librdkafka\.so\.1 '; then
    echo "ensure-prereqs: librdkafka1 was installed but librdkafka.so.1 is not on the library path" >&2
    exit 1
  fi
fi

# The CLI's build npm-installs the report page's charting library and world outline into .cache/report-npm.
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

if [[ "${1:-}" == "--tests" ]] && [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi
