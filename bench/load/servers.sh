# The servers of the load test and the instruction count, sourced by run.sh and
# instructions.sh with $port set: builds them, and sets `commands` (each server's command
# line) and `all_servers` (their order in the results and the chart).
cargo build --release --example server
cargo build --release -p tower-tim-recall-bench --bin bare --bin handwritten --bin drive

declare -A commands=(
  [bare]="target/release/bare --addr 127.0.0.1:$port"
  [bare_layer]="target/release/bare --layer --addr 127.0.0.1:$port"
  [server]="target/release/examples/server --quiet --addr 127.0.0.1:$port"
  [server_log]="target/release/examples/server --addr 127.0.0.1:$port"
  [handwritten]="target/release/handwritten --addr 127.0.0.1:$port"
  [handwritten_lean]="target/release/handwritten --lean-query --addr 127.0.0.1:$port"
)
all_servers=(bare bare_layer server server_log handwritten handwritten_lean)
