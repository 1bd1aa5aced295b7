#!/usr/bin/env bash
# The loopback load test (BENCHMARKS.md): the bare hyper server (`bare`), the same server with
# the layer in front (`bare_layer`: `bare --layer`), the `server` example with `--quiet` (axum
# with the layer, printing each event) and the hand-written axum handler (`handwritten`, the
# same job without this crate), each pinned to CPU 0 in turn, with wrk pinned to CPU 1 sending
# Tencent's documented recall callback over keep-alive connections.
# Rounds alternate the servers, each round starting one server further on, so that a change in
# the machine's load hits each alike. wrk's script counts every answer other than 200; any, or
# a socket error, makes the run exit 1.
#
#   bash bench/load/run.sh [ROUNDS] [SECONDS] [CONNECTIONS] [SERVER...]
#
# SERVERs default to all: bare, bare_layer, server, server_log (the `server` example with its
# access log, standard error discarded) and handwritten. The durable receivers (relay_journal,
# relay_redis, handwritten_durable) are run by name, with SCRIPT=bench/load/recall_unique.lua
# (each request a MsgSeq of its own; the default script is recall.lua). Needs wrk (apt-get
# install wrk).
# Prints one line per run, then the median of each server; with RESULTS=FILE set, also
# appends `server req/s` lines to FILE (what bench's `chart` reads).
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-5}
seconds=${2:-10}
connections=${3:-64}
shift $(($# < 3 ? $# : 3))
servers=("$@")
port=3917

source bench/load/servers.sh
[ ${#servers[@]} -gt 0 ] || servers=("${all_servers[@]}")
results=$(mktemp)
trap 'rm -f "$results"' EXIT

failed=0
for round in $(seq 1 "$rounds"); do
  # Each round starts one server further on, so that no server always runs in the same slot
  # of a round while the machine's load drifts.
  count=${#servers[@]}
  order=()
  for index in $(seq 0 $((count - 1))); do
    order+=("${servers[$(((index + round - 1) % count))]}")
  done
  for name in "${order[@]}"; do
    # The servers print each accepted recall on standard output: discard it.
    taskset -c 0 ${commands[$name]} >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 1 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
    out=$(taskset -c 1 wrk --latency -t1 -c"$connections" -d"${seconds}s" \
      -s "${SCRIPT:-bench/load/recall.lua}" "http://127.0.0.1:$port")
    kill "$server"
    wait "$server" 2>/dev/null || true
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p90=$(awk '$1 == "90%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    bad=$(awk '/^unexpected statuses/ {print $3}' <<<"$out")
    errors=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')
    printf '%s round %d: %s req/s  p50 %s  p90 %s  p99 %s  unexpected %s %s\n' \
      "$name" "$round" "$rps" "$p50" "$p90" "$p99" "$bad" "$errors"
    echo "$name $rps" >>"$results"
    # Any answer other than 200, or a socket error, makes the run fail at the end.
    if [ "${bad:-x}" != 0 ] || [ -n "$errors" ]; then
      failed=1
    fi
  done
done

echo "median req/s over $rounds rounds:"
for name in "${servers[@]}"; do
  awk -v n="$name" '$1 == n {print $2}' "$results" | sort -n |
    awk -v n="$name" '{v[NR] = $1} END {printf "  %-12s %.0f\n", n, v[int((NR + 1) / 2)]}'
done
if [ -n "${RESULTS:-}" ]; then
  cat "$results" >>"$RESULTS"
fi
if [ "$failed" != 0 ]; then
  echo "some answers were not 200, or sockets failed: see the rounds above" >&2
  exit 1
fi
