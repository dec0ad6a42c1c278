#!/usr/bin/env bash
# Builds and runs every test on a fresh machine, installing what is missing.
# Ends with one line "N passed, N failed" summed over all test projects.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(pwd)"

deploy/local/ensure-prereqs.sh

echo "== build"
dotnet build BaloyiBank.Streaming.sln -c Release --nologo -v quiet -clp:ErrorsOnly

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
