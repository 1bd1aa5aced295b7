//! Inputs the fuzz targets in `fuzz/` found or started from, replayed through the same checks
//! (the `fuzzing` feature's entry points), so that CI keeps them passing. Run with
//! `cargo test --all-features`; without the feature this file is empty.
#![cfg(feature = "fuzzing")]

use tower_tim_recall::__fuzz;

#[test]
fn query_seeds_pass_the_reference_checks() {
    for query in [
        include_str!("../fuzz/seeds/query/documented"),
        include_str!("../fuzz/seeds/query/signed"),
        include_str!("../fuzz/seeds/query/escaped"),
        include_str!("../fuzz/seeds/query/other_command"),
        "",
        "&",
        "=",
        "%",
        "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=%FF%zz&Sign&Sign=&contenttype=Json",
    ] {
        __fuzz::query(query);
    }
}

#[test]
fn body_seeds_pass_the_reference_checks() {
    for body in [
        &include_bytes!("../fuzz/seeds/body/documented.json")[..],
        include_bytes!("../fuzz/seeds/body/old.json"),
        include_bytes!("../fuzz/seeds/body/oldest.json"),
        include_bytes!("../fuzz/seeds/body/edges.json"),
    ] {
        __fuzz::body(body);
    }
}

#[test]
fn body_finding_a_lone_surrogate_in_a_skipped_field() {
    // Found by the `body` target: accepted by the layer, as documented (skipped fields are
    // checked for syntax only), refused by `serde_json::Value` with "unexpected end of hex
    // escape". The target's reference now allows it; the layer's answer is pinned in
    // `hostile.rs` (`fields_the_layer_skips_are_checked_for_syntax_not_range`).
    __fuzz::body(
        br#"{"GroupId":"g\u0000","MsgSeqList":[],"x":[["EventTime"]],"y":"\ud800","Type":"FutureRoom","EventTime":null}"#,
    );
    __fuzz::body(br#"{"GroupId":"g","MsgSeqList":[],"y":["\udc00\\ud800",1e400]}"#);
}
