#!/usr/bin/env bash
# Builds and runs every test on a fresh machine, installing what is missing.
# Ends with one line "N passed, N failed" summed over all test projects.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(pwd)"

deploy/local/ensure-prereqs.sh --tests

# The real servers the contract suites run against, started here (installed first when missing) and
# stopped on exit; the tests find them through BALOYI_TEST_* variables. Started in the background while
# the build runs. A test project run on its own starts its own server through the same scripts.
servers="$root/artifacts/servers"
mkdir -p "$servers"
started=()
# RabbitMQ keeps all its state in the folder it is given, so it gets one of its own.
folder_of() { if [[ "$1" == rabbitmq ]]; then echo "$servers/rabbitmq"; else echo "$servers"; fi; }
stop_servers() {
  for name in "${started[@]}"; do
    "deploy/local/$name.sh" stop "$(folder_of "$name")" >>"$servers/$name.log" 2>&1 || echo "== could not stop $name (see $servers/$name.log)"
  done
}
trap stop_servers EXIT
declare -A starting=()
for name in postgres azurite rabbitmq; do
  started+=("$name")
  "deploy/local/$name.sh" start "$(folder_of "$name")" >"$servers/$name.log" 2>&1 &
  starting[$name]=$!
done

echo "== build"
dotnet build BaloyiBank.Streaming.sln -c Release --nologo -v quiet -clp:ErrorsOnly

echo "== servers"
for name in "${!starting[@]}"; do
  if wait "${starting[$name]}"; then
    grep -v '^BALOYI_TEST_' "$servers/$name.log" | tail -n 3
  else
    echo "== $name did not start; its tests will try on their own. Its output:"
    tail -n 20 "$servers/$name.log"
  fi
done
if deploy/local/postgres.sh status "$servers" >/dev/null 2>&1; then
  BALOYI_TEST_POSTGRES="$(deploy/local/postgres.sh connection-string "$servers")"
  export BALOYI_TEST_POSTGRES
fi
if line="$(grep -m1 '^BALOYI_TEST_AZURITE=' "$servers/azurite.log")"; then
  export "$line"
fi
if deploy/local/rabbitmq.sh status "$servers/rabbitmq" >/dev/null 2>&1; then
  export BALOYI_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:${BALOYI_RABBITMQ_PORT:-5672}/"
fi

echo "== test"
results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"
status=0
dotnet test BaloyiBank.Streaming.sln -c Release --no-build --nologo \
  --results-directory "$results" --logger "trx" --logger "console;verbosity=minimal" \
  2>&1 | tee "$results/console.txt" || status=$?

# One closing line over every project, from VSTest's per-project summaries.
awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+/ {
    match($0, /Failed: +[0-9]+/); f += substr($0, RSTART + 7, RLENGTH - 7) + 0
    match($0, /Passed: +[0-9]+/); p += substr($0, RSTART + 7, RLENGTH - 7) + 0
    match($0, /Skipped: +[0-9]+/); s += substr($0, RSTART + 8, RLENGTH - 8) + 0
    n++
  }
  END {
    if (n == 0) { print "0 passed, 1 failed (no test summary found)"; exit 1 }
    printf "%d passed, %d failed, %d skipped\n", p, f, s
  }' "$results/console.txt" || status=1

exit $status
