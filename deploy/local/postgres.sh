#!/usr/bin/env bash
# A local PostgreSQL 15 for tests and `baloyi run --warehouse postgres://…`: a plain background process on
# 127.0.0.1 with its data, socket and log under <run-folder>/postgres (no Docker, no systemd).
#
#   deploy/local/postgres.sh start|stop|status|connection-string <run-folder>
#
#   start              installs postgresql with apt-get when missing, initdb (as the postgres user when run
#                      as root) into <run-folder>/postgres/data, starts the server, creates the test role
#                      and database, and prints the connection's parts (never the password). Idempotent.
#   stop               stops the server this script started for <run-folder> (its postmaster.pid), if running.
#   status             prints whether it runs; exit 0 when running, 3 when not.
#   connection-string  prints the Npgsql connection string WITH the password, for capture only:
#                      export BALOYI_TEST_POSTGRES="$(deploy/local/postgres.sh connection-string "$run")"
#
# Environment: BALOYI_POSTGRES_PORT (default 55432), BALOYI_POSTGRES_DB (baloyi_test),
# BALOYI_POSTGRES_USER (baloyi_test), BALOYI_POSTGRES_PASSWORD (default: generated once into
# <run-folder>/postgres/password, mode 600; never committed).
set -euo pipefail

usage() { echo "usage: $0 start|stop|status|connection-string <run-folder>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
command="$1"
run="$(realpath -m "$2")"
home="$run/postgres"
data="$home/data"
socket="$home/socket"
log="$home/postgres.log"
port="${BALOYI_POSTGRES_PORT:-55432}"
database="${BALOYI_POSTGRES_DB:-baloyi_test}"
user="${BALOYI_POSTGRES_USER:-baloyi_test}"
say() { echo "postgres.sh: $*"; }
fail() { echo "postgres.sh: $*" >&2; exit 1; }

[[ "$database" =~ ^[a-z][a-z0-9_]*$ && "$user" =~ ^[a-z][a-z0-9_]*$ ]] \
  || fail "BALOYI_POSTGRES_DB and BALOYI_POSTGRES_USER must be lower-case identifiers (got '$database', '$user')."
[[ "$port" =~ ^[0-9]+$ ]] || fail "BALOYI_POSTGRES_PORT must be a port number (got '$port')."

find_bindir() {
  local dir
  for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    [[ -x "$dir/pg_ctl" && -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
  done
  return 1
}

ensure_installed() {
  if ! bindir="$(find_bindir)"; then
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    say "installing postgresql with apt-get"
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null \
      || fail "apt-get install postgresql failed; install PostgreSQL 15 and re-run."
    bindir="$(find_bindir)" || fail "postgresql installed but pg_ctl/initdb not found under /usr/lib/postgresql/*/bin."
  fi
}

# initdb and postgres refuse to run as root: as root, run them as the postgres user.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

is_running() { [[ -f "$data/postmaster.pid" ]] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

password() {
  if [[ -n "${BALOYI_POSTGRES_PASSWORD:-}" ]]; then
    printf '%s' "$BALOYI_POSTGRES_PASSWORD"
  elif [[ -f "$home/password" ]]; then
    cat "$home/password"
  else
    fail "no password: start the server first (it generates $home/password) or set BALOYI_POSTGRES_PASSWORD."
  fi
}

print_parts() {
  say "running: host 127.0.0.1, port $(cat "$home/port"), database $database, user $user, password in ${BALOYI_POSTGRES_PASSWORD:+BALOYI_POSTGRES_PASSWORD}${BALOYI_POSTGRES_PASSWORD:-$home/password}; data $data, log $log"
}

start() {
  ensure_installed
  mkdir -p "$home"
  if is_running; then
    say "already running for $run"
    print_parts
    return 0
  fi

  if [[ -z "${BALOYI_POSTGRES_PASSWORD:-}" && ! -f "$home/password" ]]; then
    (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$home/password")
    say "generated a password into $home/password (mode 600)"
  fi

  if [[ $(id -u) -eq 0 ]]; then
    getent passwd postgres >/dev/null || fail "the postgres user is missing (the postgresql package creates it)."
    mkdir -p "$data" "$socket"
    chown postgres "$data" "$socket"
    chmod 700 "$data"
    # The server must reach its folders: every parent needs search permission for the postgres user.
    local dir="$home"
    while [[ "$dir" != "/" ]]; do
      runuser -u postgres -- test -x "$dir" || fail "the postgres user cannot enter $dir; use a run folder it can reach (e.g. under /tmp)."
      dir="$(dirname "$dir")"
    done
    touch "$log" && chown postgres "$log"
  else
    mkdir -p "$data" "$socket"
    chmod 700 "$data"
  fi

  if [[ ! -f "$data/PG_VERSION" ]]; then
    as_owner "$bindir/initdb" -D "$data" -U postgres -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 >"$home/initdb.log" 2>&1 \
      || { cat "$home/initdb.log" >&2; fail "initdb failed (log above)."; }
    say "initialized $data ($("$bindir/postgres" --version))"
  fi

  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port on 127.0.0.1 is already in use by another process; set BALOYI_POSTGRES_PORT to a free port."
  fi

  echo "$port" >"$home/port"
  as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-k $socket -h 127.0.0.1 -p $port -c fsync=on -c max_connections=50 -c shared_buffers=256MB -c max_wal_size=2GB" start >/dev/null \
    || { tail -n 20 "$log" >&2; fail "pg_ctl start failed (last log lines above)."; }
  for _ in $(seq 1 60); do
    as_owner "$bindir/pg_isready" -h "$socket" -p "$port" -q && break
    sleep 0.5
  done
  as_owner "$bindir/pg_isready" -h "$socket" -p "$port" -q || fail "the server did not become ready; see $log."

  local pw
  pw="$(password)"
  pw="${pw//\'/\'\'}"
  # The password goes through standard input, never a command line (visible in ps).
  as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -U postgres -d postgres >/dev/null <<SQL
SELECT format('CREATE ROLE %I LOGIN', '$user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$user') \gexec
ALTER ROLE "$user" WITH LOGIN PASSWORD '$pw';
SELECT format('CREATE DATABASE %I OWNER %I', '$database', '$user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$database') \gexec
SQL
  say "started PostgreSQL (pid $(head -n 1 "$data/postmaster.pid")) for $run"
  print_parts
}

stop() {
  bindir="$(find_bindir)" || { say "postgresql is not installed; nothing to stop"; return 0; }
  if is_running; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null || fail "pg_ctl stop failed; see $log."
    say "stopped the server of $run"
  else
    say "not running for $run"
  fi
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status)
    bindir="$(find_bindir)" || { say "postgresql is not installed"; exit 3; }
    if is_running; then print_parts; else say "not running for $run"; exit 3; fi
    ;;
  connection-string)
    [[ -f "$home/port" ]] || fail "no server was started for $run."
    printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=%s;Password=%s\n' "$(cat "$home/port")" "$database" "$user" "$(password)"
    ;;
  *) usage ;;
esac
