#!/usr/bin/env bash
# Instructions per request of the durable receivers (BENCHMARKS.md), as instructions.sh counts
# the others: each receiver under callgrind on a fresh store (load/durable.sh), a warm-up,
# counters zeroed, REQUESTS group recalls from `drive --unique` (each a MsgSeq of its own, so
# that every one is stored), counters dumped. The figure is the receiver process's user-space
# instructions (every thread: the runtime, the journal's writer, SQLite) per request; Redis's
# own work, in its own process, is not in it.
#
#   bash bench/load/durable_instructions.sh [REQUESTS] [SERVER...]
#
# SERVERs default to relay_journal, relay_redis and handwritten_durable. With RESULTS=FILE set,
# appends `server instructions` lines to FILE.
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-4000}
shift $(($# < 1 ? $# : 1))
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(relay_journal relay_redis handwritten_durable)
port=3919
warmup=400
source bench/load/servers.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for name in "${servers[@]}"; do
  taskset -c 0 bash bench/load/durable.sh "$name" "$port" \
    valgrind --tool=callgrind --callgrind-out-file="$work/$name.%p" >/dev/null 2>"$work/$name.err" &
  wrapper=$!
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  # The receiver's own program: the relay, or the hand-written receiver.
  case $name in relay_*) program=tim-recall-relay ;; *) program=handwritten ;; esac
  target/release/drive --addr "127.0.0.1:$port" --requests "$warmup" --unique --first-seq 1 >/dev/null
  callgrind_control --zero "$program" 2>&1 | grep -q "OK" || { echo "zeroing failed" >&2; exit 1; }
  target/release/drive --addr "127.0.0.1:$port" --requests "$requests" --unique --first-seq 100000
  callgrind_control --dump=measured "$program" 2>&1 | grep -q "OK" ||
    { echo "dumping failed" >&2; exit 1; }
  kill "$wrapper"
  wait "$wrapper" 2>/dev/null || true
  total=$(grep -l "^desc: Trigger: dump measured" "$work/$name".* |
    xargs awk '/^summary:/ {print $2}')
  printf '%-20s %8d instructions per request (group, %d requests, each stored)\n' \
    "$name" $((total / requests)) "$requests"
  if [ -n "${RESULTS:-}" ]; then
    echo "$name $((total / requests))" >>"$RESULTS"
  fi
done
