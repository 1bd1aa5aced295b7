# The servers of the load test and the instruction count, sourced by run.sh and
# instructions.sh with $port set: builds them, and sets `commands` (each server's command
# line) and `all_servers` (their order in the results and the chart).
cargo build --release --example server
cargo build --release -p tower-tim-recall-bench --bin bare --bin handwritten --bin drive
cargo build --release -p tim-recall-relay

declare -A commands=(
  [bare]="target/release/bare --addr 127.0.0.1:$port"
  [bare_layer]="target/release/bare --layer --addr 127.0.0.1:$port"
  [server]="target/release/examples/server --quiet --addr 127.0.0.1:$port"
  [server_log]="target/release/examples/server --addr 127.0.0.1:$port"
  [handwritten]="target/release/handwritten --addr 127.0.0.1:$port"
  [handwritten_lean]="target/release/handwritten --lean-query --addr 127.0.0.1:$port"
  # The durable receivers, each on a fresh store (load/durable.sh): load them with
  # SCRIPT=bench/load/recall_unique.lua, so that every request is a recall to store.
  [relay_journal]="bash bench/load/durable.sh relay_journal $port"
  [relay_redis]="bash bench/load/durable.sh relay_redis $port"
  [handwritten_durable]="bash bench/load/durable.sh handwritten_durable $port"
)
all_servers=(bare bare_layer server server_log handwritten handwritten_lean)
