#!/usr/bin/env bash
# A local RabbitMQ (streams) for tests and `baloyi up`: a plain background process bound to
# 127.0.0.1 with every bit of state (data, logs, config, Erlang cookie) in the run folder.
#
#   deploy/local/rabbitmq.sh start  <run-folder>   # install if missing, start, wait until ready
#   deploy/local/rabbitmq.sh stop   <run-folder>   # stop exactly what `start` started there
#   deploy/local/rabbitmq.sh status <run-folder>   # exit 0 when running, 3 when not
#
# Environment: BALOYI_RABBITMQ_PORT (AMQP port, default 5672). The stream-protocol port is the
# AMQP port - 120 (5552 for 5672) and the Erlang distribution port the AMQP port + 20000, so two
# run folders with different ports can run side by side. The AMQP URI printed by `start`
# (guest/guest, which RabbitMQ accepts from localhost only) is what the tests read from
# BALOYI_TEST_RABBITMQ.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status <run-folder>" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
action="$1"
mkdir -p "$2"
run="$(cd "$2" && pwd)"
port="${BALOYI_RABBITMQ_PORT:-5672}"
if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1024 || port > 45000 )); then
  echo "rabbitmq.sh: BALOYI_RABBITMQ_PORT must be a port between 1024 and 45000 (got '$port'). Fix: unset it or pick a free port such as 5672." >&2
  exit 2
fi
stream_port=$((port - 120))
dist_port=$((port + 20000))
if [[ "$port" == 5672 ]]; then node="rabbit@localhost"; else node="rabbit$port@localhost"; fi

server=/usr/lib/rabbitmq/bin/rabbitmq-server
ctl=/usr/lib/rabbitmq/bin/rabbitmqctl
plugins=/usr/lib/rabbitmq/bin/rabbitmq-plugins
pidfile="$run/rabbitmq.pid"       # the Erlang VM's pid, written by RabbitMQ itself
launcher="$run/launcher.pid"      # the pid this script started (the server script's shell)
epmd_pid="$run/epmd.pid"          # epmd, only when this script had to start it

# Everything RabbitMQ and its CLI tools read goes to the run folder (the /usr/sbin wrappers
# would switch user and use /var/lib/rabbitmq instead).
export HOME="$run"
export RABBITMQ_NODENAME="$node"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$port"
export RABBITMQ_DIST_PORT="$dist_port"
export RABBITMQ_MNESIA_BASE="$run/mnesia"
export RABBITMQ_LOG_BASE="$run/log"
export RABBITMQ_CONFIG_FILE="$run/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$run/enabled_plugins"
export RABBITMQ_PID_FILE="$pidfile"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_ADDRESS=127.0.0.1

say() { echo "rabbitmq.sh: $*"; }

running() {
  [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

install_if_missing() {
  [[ -x "$server" ]] && return 0
  say "rabbitmq-server is not installed; installing it with apt-get (Debian's package)"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  # The package's postinst starts a system node when it can; there is no systemd here, and
  # policy-rc.d keeps it from starting one anyway.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq rabbitmq-server >/dev/null
  if [[ ! -x "$server" ]]; then
    echo "rabbitmq.sh: apt-get installed rabbitmq-server but $server is missing. Fix: check 'dpkg -L rabbitmq-server'." >&2
    exit 1
  fi
  # A system node started by the package would hold port 5672 and the node name.
  if pgrep -u rabbitmq -f beam >/dev/null 2>&1; then
    say "stopping the system node the package started"
    $sudo /usr/sbin/rabbitmqctl stop >/dev/null 2>&1 || true
  fi
  say "installed rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server)"
}

start() {
  if running; then
    say "already running (pid $(cat "$pidfile"), amqp://guest:guest@127.0.0.1:$port/, run folder $run)"
    return 0
  fi
  install_if_missing
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "rabbitmq.sh: port $port on 127.0.0.1 is taken by another process (not started from $run). Fix: stop it, or set BALOYI_RABBITMQ_PORT to a free port." >&2
    exit 1
  fi
  mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
  cat >"$RABBITMQ_CONFIG_FILE" <<EOF
listeners.tcp.default = 127.0.0.1:$port
stream.listeners.tcp.1 = 127.0.0.1:$stream_port
loopback_users.guest = true
log.file.level = info
log.console = false
EOF
  "$plugins" enable --offline rabbitmq_stream >/dev/null
  if ! epmd -names >/dev/null 2>&1; then
    # epmd would otherwise be started by the node and outlive it; start it here so stop can end it.
    nohup epmd -address 127.0.0.1 >"$run/log/epmd.log" 2>&1 &
    echo $! >"$epmd_pid"
    say "started epmd (pid $!) on 127.0.0.1"
  fi
  rm -f "$pidfile"
  nohup "$server" >"$run/log/console.log" 2>&1 &
  echo $! >"$launcher"
  say "starting node $node (launcher pid $!) with its state in $run"
  # rabbitmqctl wait needs the pid file the node writes, so wait for it first.
  for _ in $(seq 1 300); do
    [[ -s "$pidfile" ]] && break
    if ! kill -0 "$(cat "$launcher")" 2>/dev/null; then
      echo "rabbitmq.sh: the server exited during start. Last lines of $run/log/console.log:" >&2
      tail -n 30 "$run/log/console.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  if ! timeout 120 "$ctl" -n "$node" wait "$pidfile" --timeout 110 >/dev/null 2>"$run/log/wait.err"; then
    echo "rabbitmq.sh: node $node did not become ready within 120 s. See $run/log/ (console.log, wait.err):" >&2
    tail -n 30 "$run/log/console.log" "$run/log/wait.err" >&2 || true
    exit 1
  fi
  say "ready: amqp://guest:guest@127.0.0.1:$port/ (stream port $stream_port, pid $(cat "$pidfile"))"
}

stop() {
  if running; then
    local pid
    pid="$(cat "$pidfile")"
    say "stopping node $node (pid $pid)"
    if ! timeout 60 "$ctl" -n "$node" stop "$pidfile" >/dev/null 2>&1; then
      say "rabbitmqctl stop failed; sending SIGTERM to pid $pid"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  else
    say "not running (run folder $run)"
  fi
  rm -f "$pidfile" "$launcher"
  if [[ -s "$epmd_pid" ]]; then
    local epid
    epid="$(cat "$epmd_pid")"
    # Another node may have registered with the epmd this script started; leave it then.
    if kill -0 "$epid" 2>/dev/null && [[ -z "$(epmd -names 2>/dev/null | grep '^name ' || true)" ]]; then
      kill "$epid" 2>/dev/null || true
      say "stopped epmd (pid $epid)"
    fi
    rm -f "$epmd_pid"
  fi
}

status() {
  if running; then
    say "running (pid $(cat "$pidfile"), amqp://guest:guest@127.0.0.1:$port/, run folder $run)"
    return 0
  fi
  say "not running (run folder $run)"
  return 3
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
