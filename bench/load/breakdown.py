#!/usr/bin/env python3
"""Where a server's instructions per request go (BENCHMARKS.md, "Where the remaining cost
goes"), from a callgrind dump that instructions.sh kept:

    KEEP=dumps bash bench/load/instructions.sh 4000 group server handwritten
    python3 bench/load/breakdown.py dumps/server.group.callgrind 4000
    python3 bench/load/breakdown.py dumps/handwritten.group.callgrind 4000

Reads the inclusive cost of a few functions (callgrind_annotate --inclusive=yes) and takes
the parts apart by subtraction, so that the rows add up to the total. Works for the `server`
example (acknowledge mode) and the hand-written receiver; a function a server does not have
counts 0.
"""

import re
import subprocess
import sys


def inclusive_costs(path):
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    costs = {}
    for line in out.splitlines():
        match = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(.*) \[", line)
        if match:
            costs.setdefault(match.group(2), int(match.group(1).replace(",", "")))
    total = re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", out).group(1)
    return costs, int(total.replace(",", ""))


def main():
    path, requests = sys.argv[1], int(sys.argv[2])
    costs, total = inclusive_costs(path)

    def cost(pattern):
        hits = [value for name, value in costs.items() if re.search(pattern, name)]
        return max(hits) / requests if hits else 0.0

    connection = cost(r"axum::serve::handle_connection::\{\{closure\}\}::\{\{closure\}\}$")
    dispatcher = cost(r"Dispatcher<D,Bs,I,T>::poll_catch$")
    read_head = cost(r"Conn<I,B,T>::poll_read_head$")
    write_head = cost(r"Conn<I,B,T>::write_head$")
    service = cost(r"hyper_util::service::oneshot::Oneshot<S,Req> as core::future::future::Future>::poll$")
    router = cost(r"axum::routing::Router<S>::call_with_state$")
    # The server: the layer's checks, its parse, the handler that prints.
    layer_checks = cost(r"tower_tim_recall::service::Recall<S,M> as tower_service::Service")
    layer_parse = cost(r"RecallEvent::parse$")
    # The hand-written receiver: its query extractor and its parse.
    # `Query` for the idiomatic one, serde_urlencoded on the raw query for `--lean-query`.
    query = max(
        cost(r"Query<T>::try_from_uri$"),
        cost(r"handwritten::CallbackParams>::deserialize$"),
    )
    # serde_json::from_slice is inlined into the handler; from_trait is what it calls.
    parse = layer_parse or cost(r"serde_json::de::from_trait$")
    # The server's handler is `record`, which prints (print_event may be inlined into it).
    printing = max(
        cost(r"demo::print_event$"), cost(r"server::record$"), cost(r"handwritten::print_event$")
    )
    serialize = cost(r"impl serde_core::ser::Serialize for tower_tim_recall::protocol::event::RecallEvent>::serialize$")
    # The server's handler owns the event and drops it when it returns; the peers drop theirs
    # in their handler's future, which lands in "the rest".
    dropped = cost(r"drop_in_place<tower_tim_recall::accepted::AcceptedRecall>$")
    malloc = cost(r"^__rustc::__rust_alloc$")
    free = cost(r"^__rustc::__rust_dealloc$")

    per_request = total / requests
    checks = layer_checks or query
    rows = [
        ("tokio outside the connection's task", per_request - connection),
        ("axum::serve's connection plumbing", connection - dispatcher),
        ("hyper: the request head", read_head),
        ("hyper: the response head", write_head),
        ("hyper: the rest of the exchange", dispatcher - read_head - write_head - service),
        ("axum's router", router),
        ("the checks from the query", checks),
        ("the JSON parse of the body", parse),
        ("serializing the event line", serialize),
        ("writing the line", printing - serialize - dropped),
        ("dropping the event in the handler", dropped),
        ("the rest", service - router - checks - parse - printing),
    ]
    for label, value in rows:
        print(f"{label:40s} {value:8.0f}")
    print(f"{'total':40s} {per_request:8.0f}")
    print(f"{'(malloc and free, spread over the rows)':40s} {malloc + free:8.0f}")


if __name__ == "__main__":
    main()
