#!/usr/bin/env bash
# Azurite's Blob service as a plain local process, for the blob lake's tests and local runs.
#
#   deploy/local/azurite.sh start  <run-folder>   installs azurite 3.37.0 (npm, into .cache/azurite) when
#                                                  missing, starts azurite-blob on 127.0.0.1 with its data in
#                                                  <run-folder>/azurite, waits until it answers
#   deploy/local/azurite.sh stop   <run-folder>   stops the process this script started there (pid file)
#   deploy/local/azurite.sh status <run-folder>   says whether it runs; exit 0 when it does, 3 when not
#
# Environment: AZURITE_BLOB_PORT (default 10000). On start the script prints the service URI to
# use, e.g. BALOYI_TEST_AZURITE=http://127.0.0.1:10000/devstoreaccount1 (Azurite's well-known
# development account devstoreaccount1 and its published key; no secret involved).
set -euo pipefail

version="3.37.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$root/.cache/azurite"
bin="$cache/node_modules/.bin/azurite-blob"
port="${AZURITE_BLOB_PORT:-10000}"

usage() {
  echo "usage: deploy/local/azurite.sh start|stop|status <run-folder>" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
command="$1"
run="$(mkdir -p "$2" && cd "$2" && pwd)"
data="$run/azurite"
pidfile="$data/azurite.pid"
portfile="$data/azurite.port"
log="$data/azurite.log"

# The pid in the pid file, when that process is alive and still an azurite (pids get reused).
running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q azurite || return 1
  echo "$pid"
}

answers() {
  # Any HTTP answer (Azurite says 400/403 to an unsigned request) means the service is up.
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/devstoreaccount1?comp=list" 2>/dev/null
}

install_azurite() {
  [[ -x "$bin" ]] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "azurite: npm not found; installing nodejs and npm with apt-get"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq nodejs npm >/dev/null
  fi
  if ! command -v curl >/dev/null 2>&1; then
    echo "azurite: curl not found; installing it with apt-get"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq curl >/dev/null
  fi
  mkdir -p "$cache"
  # Two test runs may start at once: one installs, the other waits for it.
  exec 9>"$cache/.install.lock"
  flock 9
  if [[ ! -x "$bin" ]]; then
    echo "azurite: installing azurite@$version with npm into $cache"
    if ! npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "azurite@$version" >"$cache/install.log" 2>&1; then
      echo "azurite: 'npm install azurite@$version' failed:" >&2
      cat "$cache/install.log" >&2
      exit 1
    fi
  fi
  flock -u 9
}

case "$command" in
  start)
    if pid="$(running_pid)"; then
      echo "azurite: already running (pid $pid) at http://127.0.0.1:$(cat "$portfile" 2>/dev/null || echo "$port")/devstoreaccount1, data in $data"
      exit 0
    fi
    install_azurite
    if answers "$port"; then
      echo "azurite: 127.0.0.1:$port already answers, but not from a process this script started in $run." >&2
      echo "azurite: stop that server or choose another port with AZURITE_BLOB_PORT." >&2
      exit 1
    fi
    mkdir -p "$data"
    # setsid: the server outlives the calling shell and ignores its terminal's signals.
    setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$data" --silent --skipApiVersionCheck \
      >"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    echo "$port" >"$portfile"
    for _ in $(seq 1 300); do
      if answers "$port"; then
        echo "azurite: started (pid $pid) at http://127.0.0.1:$port/devstoreaccount1, data in $data"
        echo "BALOYI_TEST_AZURITE=http://127.0.0.1:$port/devstoreaccount1"
        exit 0
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pidfile"
        echo "azurite: the server exited during start-up; its output ($log):" >&2
        cat "$log" >&2
        exit 1
      fi
      sleep 0.1
    done
    echo "azurite: no answer on 127.0.0.1:$port after 30 s; stopping pid $pid. Output ($log):" >&2
    cat "$log" >&2
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    exit 1
    ;;
  stop)
    if ! pid="$(running_pid)"; then
      rm -f "$pidfile"
      echo "azurite: not running (nothing started from $run)"
      exit 0
    fi
    kill "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "azurite: pid $pid still alive after 10 s; sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo "azurite: stopped (pid $pid)"
    ;;
  status)
    if pid="$(running_pid)"; then
      echo "azurite: running (pid $pid) at http://127.0.0.1:$(cat "$portfile" 2>/dev/null || echo "$port")/devstoreaccount1, data in $data"
      exit 0
    fi
    echo "azurite: not running (from $run)"
    exit 3
    ;;
  *)
    usage
    ;;
esac
