#!/usr/bin/env bash
# The whole test suite (npm test, after the build). Two lanes run side by side, each one file at a
# time: the simulator's seeded schedules (pure CPU, no sockets, no namespaces: about 12 minutes in CI)
# and everything else (real namespaces, daemons and packages: mostly waiting on timers). The
# simulator lane's report is printed after the other's; the suite fails if either lane does.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t sim < <(find dist/test/sim -name '*.test.js' | sort)
mapfile -t rest < <(find dist/test -name '*.test.js' -not -path 'dist/test/sim/*' | sort)
sim_log=$(mktemp)
trap 'rm -f "$sim_log"' EXIT
node --test --test-concurrency=1 "${sim[@]}" > "$sim_log" 2>&1 &
sim_pid=$!
node --test --test-concurrency=1 "${rest[@]}"
rest_status=$?
wait "$sim_pid"
sim_status=$?
echo "# ---- simulator lane (dist/test/sim, run alongside the lane above) ----"
cat "$sim_log"
echo "# lanes: namespaces and the rest exit $rest_status, simulator exit $sim_status"
[ "$rest_status" -eq 0 ] && [ "$sim_status" -eq 0 ]
