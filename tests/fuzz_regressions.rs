//! Inputs the fuzz targets in `fuzz/` found or started from (the hand-written seeds in
//! `fuzz/seeds/`, copied here so that the tests need nothing outside the crate), replayed
//! through the same checks (the `fuzzing` feature's entry points), so that CI keeps them
//! passing. Run with `cargo test --all-features`; without the feature this file is empty.
#![cfg(feature = "fuzzing")]

mod common;

use common::fixtures::{EVENT, OLD_EVENT};
use tower_tim_recall::__fuzz;

#[test]
fn query_seeds_pass_the_reference_checks() {
    for query in [
        r#"SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI"#,
        r#"SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI&RequestTime=1669872112&Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"#,
        r#"%53dkAppid=%31%34&%43allbackCommand=%47roup%2ECallbackAfterRecallMsg&ClientIP=%3A%3A1&contenttype=JSON&SdkAppid&Sign=&;x=1"#,
        r#"SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterNewMemberJoin&contenttype=json"#,
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
        EVENT,
        OLD_EVENT,
        r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1","Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}"#,
        r#"{"GroupId":"g\u0000","MsgSeqList":[],"x":[[{"a":1e400}]],"y":"\ud800","Type":"FutureRoom","EventTime":null}"#,
    ] {
        __fuzz::body(body.as_bytes());
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
