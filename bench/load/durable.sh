#!/usr/bin/env bash
# Starts one durable receiver of the load test on a fresh store, and removes the store when it is
# stopped (SIGTERM from run.sh or instructions.sh):
#
#   bash bench/load/durable.sh relay_journal|relay_redis|handwritten_durable PORT [WRAPPER...]
#
# relay_journal: tim-recall-relay with its journal; relay_redis: the relay with a Redis stream,
# on a redis-server of its own with the settings the promise needs (appendonly yes, appendfsync
# always), on a unix socket, pinned like the relay; handwritten_durable: the hand-written axum
# receiver that commits each recall to SQLite in its own transaction. WRAPPER (valgrind, say)
# runs the receiver. Each starts with an empty store.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1
port=$2
shift 2
store=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$store"
}
trap stop EXIT
trap 'exit 0' TERM INT

case $name in
  relay_journal)
    "$@" target/release/tim-recall-relay --quiet --addr "127.0.0.1:$port" --journal "$store/relay.db" &
    ;;
  relay_redis)
    redis-server --port 0 --unixsocket "$store/redis.sock" --dir "$store" --save '' \
      --appendonly yes --appendfsync always >/dev/null &
    pids+=($!)
    for _ in $(seq 1 100); do [ -S "$store/redis.sock" ] && break; sleep 0.05; done
    "$@" target/release/tim-recall-relay --quiet --addr "127.0.0.1:$port" --journal "$store/spill.db" \
      --redis "unix://$store/redis.sock" &
    ;;
  handwritten_durable)
    "$@" target/release/handwritten --addr "127.0.0.1:$port" --sqlite "$store/handwritten.db" &
    ;;
  *)
    echo "unknown durable receiver $name" >&2
    exit 2
    ;;
esac
pids+=($!)
wait "${pids[-1]}"
