#!/usr/bin/env bash
# Server-level instructions per request (BENCHMARKS.md): each server runs under callgrind,
# takes a warm-up of requests, has its counters zeroed, takes a fixed number of requests from
# `drive` (a client that checks every answer), and has its counters dumped. The figure is the
# user-space instructions of the whole server process (every thread: runtime, hyper, router,
# layer, handler, printing) divided by the request count. Unlike requests per second, it does
# not move with the machine's load.
#
#   bash bench/load/instructions.sh [REQUESTS] [KIND] [SERVER...]
#
# REQUESTS defaults to 4000, over 4 keep-alive connections; KIND is what drive sends (group,
# c2c, official-account, other; default group). SERVERs default to every server of the load
# test; `server_log` is the `server` example with its access log on (not --quiet). Each
# server's standard error (valgrind's and the log's) goes to a scratch file, whose end is
# printed if the run fails. Prints one line per server: its name and instructions per
# request; with RESULTS=FILE set, also appends `server instructions` lines to FILE (what bench's `chart`
# reads), and with KEEP=DIR, keeps each server's callgrind dump in DIR for
# callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/../.."

requests=${1:-4000}
kind=${2:-group}
shift $(($# < 2 ? $# : 2))
servers=("$@")
port=3918
warmup=400

source bench/load/servers.sh
[ ${#servers[@]} -gt 0 ] || servers=("${all_servers[@]}")
work=$(mktemp -d)
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -n "${name:-}" ] && [ -f "$work/$name.err" ]; then
    echo "--- the end of $name's standard error:" >&2
    tail -n 20 "$work/$name.err" >&2
  fi
  rm -rf "$work"
}
trap on_exit EXIT

for name in "${servers[@]}"; do
  command=${commands[$name]:?"unknown server $name"}
  # The servers print each accepted recall on standard output: discard it, as a pipe to a
  # reader that keeps up would.
  # Pinned to one CPU as in the load test, so that the runtime has the same one worker.
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$work/$name.%p" \
    $command >/dev/null 2>"$work/$name.err" &
  pid=$!
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  target/release/drive --addr "127.0.0.1:$port" --requests "$warmup" --kind "$kind" >/dev/null
  # callgrind_control says OK once the running program has done what it was told.
  callgrind_control --zero "$pid" 2>&1 | grep -q "OK" || { echo "zeroing failed" >&2; exit 1; }
  target/release/drive --addr "127.0.0.1:$port" --requests "$requests" --kind "$kind"
  callgrind_control --dump=measured "$pid" 2>&1 | grep -q "OK" ||
    { echo "dumping failed" >&2; exit 1; }
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # The dump named "measured": the instructions since the counters were zeroed.
  total=$(grep -l "^desc: Trigger: dump measured" "$work/$name".* |
    xargs awk '/^summary:/ {print $2}')
  printf '%-12s %8d instructions per request (%s, %d requests)\n' \
    "$name" $((total / requests)) "$kind" "$requests"
  if [ -n "${RESULTS:-}" ]; then
    echo "$name $((total / requests))" >>"$RESULTS"
  fi
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    grep -l "^desc: Trigger: dump measured" "$work/$name".* | xargs -I{} cp {} "$KEEP/$name.$kind.callgrind"
  fi
done
