//! Property tests: for any request, the layer's decision (the status, and whether the inner
//! service was called) is the one a plain model of the decision table gives (the crate
//! documentation, "What the layer answers"), and nothing panics.
//!
//! The model below is written from the table, not from the crate: it sees the query as the
//! decoded `(name, value)` pairs a request carries (known by construction for generated
//! parameters, decoded by `form_urlencoded` for arbitrary text), and checks the body with
//! `serde_json::Value`. Case counts keep the file to a few seconds in a debug build.

use http::{header, Method, Request, Uri};
use proptest::prelude::*;
use serde_json::Value;
use tower::{Layer, ServiceExt};
use tower_tim_recall::{Ack, RecallLayer};

use support::bodies::{End, Script};
use support::fixtures::{at, APP, CALLBACK_PATH, EVENT, NOW, TOKEN};
use support::{sign_text, Answer, Recorder};

const WINDOW: u64 = 60;
const RECALL: &str = "Group.CallbackAfterRecallMsg";

// ---------------------------------------------------------------------------------------------
// The model

/// What the model is given: the request as the decision table sees it.
#[derive(Debug, Clone)]
struct Case {
    method: Method,
    /// Decoded `(name, value)` pairs; a parameter without `=` has an empty value.
    pairs: Vec<(String, String)>,
    /// Whether the layer checks signatures (with `TOKEN`, the clock at `NOW`).
    signed: bool,
    limit: usize,
    body: Vec<u8>,
    /// The body fails after its last chunk.
    fails: bool,
}

/// The answer the table gives: a status, and whether the inner service answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    status: u16,
    inner: bool,
}

const INNER: Decision = Decision {
    status: 200,
    inner: true,
};

fn refuse(status: u16) -> Decision {
    Decision {
        status,
        inner: false,
    }
}

impl Case {
    fn values(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn single(&self, name: &str) -> Option<&str> {
        match self.values(name)[..] {
            [value] => Some(value),
            _ => None,
        }
    }

    /// The decision table, row by row.
    fn decide(&self) -> Decision {
        // Not a recall callback: passed through.
        if !self.values("CallbackCommand").contains(&RECALL) {
            return INNER;
        }
        if self.method != Method::POST {
            return refuse(405);
        }
        // SdkAppid: once, decimal digits only, in the allowlist.
        let app = self.single("SdkAppid").and_then(|text| {
            let digits = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
            digits.then(|| text.parse::<u64>().ok()).flatten()
        });
        if app != Some(APP) {
            return refuse(403);
        }
        if self.signed && !self.signature_ok() {
            return refuse(401);
        }
        // The shape of the request: one command; contenttype, if given, is json once.
        if self.values("CallbackCommand").len() > 1 {
            return refuse(400);
        }
        match self.values("contenttype")[..] {
            [] => {}
            [value] if value.eq_ignore_ascii_case("json") => {}
            _ => return refuse(400),
        }
        if self.body.len() > self.limit {
            return refuse(413);
        }
        if self.fails || !body_is_event(&self.body) {
            return refuse(400);
        }
        INNER
    }

    fn signature_ok(&self) -> bool {
        let (Some(time), Some(sign)) = (self.single("RequestTime"), self.single("Sign")) else {
            return false;
        };
        // The time as Tencent writes it: plain digits, no leading zero.
        let canonical = time == "0"
            || (!time.is_empty()
                && !time.starts_with('0')
                && time.chars().all(|c| c.is_ascii_digit()));
        let Some(seconds) = canonical.then(|| time.parse::<u64>().ok()).flatten() else {
            return false;
        };
        if seconds.abs_diff(NOW) > WINDOW {
            return false;
        }
        sign.to_ascii_lowercase() == sign_text(TOKEN, time)
    }
}

/// Whether `body` is a recall event: one JSON object (no byte-order mark, UTF-8), with a
/// `GroupId` string and a `MsgSeqList` of `{"MsgSeq": 0..=u32::MAX, "MsgId": string?}`; the
/// optional fields of the right type when present; `CallbackCommand`, when present, the recall
/// command. Generated bodies never repeat a key, which `Value` could not see.
fn body_is_event(body: &[u8]) -> bool {
    let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let string_or_null = |field: &str| {
        matches!(
            event.get(field),
            None | Some(Value::Null | Value::String(_))
        )
    };
    let messages_ok = event
        .get("MsgSeqList")
        .and_then(Value::as_array)
        .is_some_and(|messages| {
            messages.iter().all(|message| {
                let seq_ok = message
                    .get("MsgSeq")
                    .and_then(Value::as_u64)
                    .is_some_and(|seq| seq <= u64::from(u32::MAX));
                let id_ok = matches!(
                    message.get("MsgId"),
                    None | Some(Value::Null | Value::String(_))
                );
                message.is_object() && seq_ok && id_ok
            })
        });
    let time_ok = match event.get("EventTime") {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.is_u64(),
        Some(Value::String(s)) => {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && s.parse::<u64>().is_ok()
        }
        Some(_) => false,
    };
    let command_ok = match event.get("CallbackCommand") {
        None => true,
        Some(command) => command == RECALL,
    };
    matches!(event.get("GroupId"), Some(Value::String(_)))
        && messages_ok
        && time_ok
        && command_ok
        && string_or_null("Operator_Account")
        && string_or_null("Type")
        && string_or_null("TopicId")
}

// ---------------------------------------------------------------------------------------------
// Running a case through the layer

/// Sends `case` (with `query` as its raw query text and the body cut at `cuts`) through the
/// layer in front of a recorder.
fn run(case: &Case, query: &str, cuts: &[usize], content_length: bool) -> Decision {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let Ok(uri) = Uri::try_from(format!("{CALLBACK_PATH}?{query}")) else {
        panic!("generated a query http::Uri refuses: {query:?}");
    };
    let builder = RecallLayer::builder()
        .body_limit(case.limit)
        .clock(|| at(NOW));
    let layer = if case.signed {
        builder.signed_app(APP, [TOKEN])
    } else {
        builder.unsigned_app(APP).allow_unsigned_apps()
    };
    let layer = layer.build().unwrap();
    let end = if case.fails { End::Fail } else { End::Finish };
    let mut request = Request::new(Script::cut(&case.body, cuts, end));
    *request.method_mut() = case.method.clone();
    *request.uri_mut() = uri;
    if content_length {
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, case.body.len().into());
    }
    let recorder = Recorder::default();
    let service = layer.layer(recorder.clone());
    let answer = runtime.block_on(async move {
        let response = service
            .oneshot(request)
            .await
            .expect("the layer never fails");
        Answer::read(response).await
    });
    let inner = match recorder.calls() {
        0 => false,
        1 => true,
        n => panic!("the inner service was called {n} times"),
    };
    if inner {
        answer.assert_inner();
    } else {
        // A `FAIL` acknowledgement, in Tencent's form, with the status as its code (the model
        // decides the status; the reasons are pinned in `decision_table.rs`).
        let ack: Ack = serde_json::from_slice(&answer.body).expect("a FAIL acknowledgement");
        answer.assert_fail(answer.status, ack.error_info());
    }
    Decision {
        status: answer.status.as_u16(),
        inner,
    }
}

// ---------------------------------------------------------------------------------------------
// Generating requests

/// A parameter as it is written in the query, and as it decodes.
#[derive(Debug, Clone)]
struct Token {
    raw: String,
    decoded: String,
}

fn token(raw: &str, decoded: &str) -> Token {
    Token {
        raw: raw.to_owned(),
        decoded: decoded.to_owned(),
    }
}

fn same(text: &str) -> Token {
    token(text, text)
}

fn name() -> impl Strategy<Value = Token> {
    prop_oneof![
        4 => Just(same("CallbackCommand")),
        4 => Just(same("SdkAppid")),
        2 => Just(same("Sign")),
        2 => Just(same("RequestTime")),
        2 => Just(same("contenttype")),
        1 => Just(same("ClientIP")),
        1 => Just(same("OptPlatform")),
        1 => Just(token("%43allbackCommand", "CallbackCommand")),
        1 => Just(token("SdkApp%69d", "SdkAppid")),
        1 => Just(same("sdkappid")),
        1 => Just(token("Sign%FF", "Sign\u{FFFD}")),
        1 => "[a-z]{0,3}".prop_map(|text| same(&text)),
    ]
}

/// Signature parameters at `NOW + offset`: the time and its correct signature.
fn signed_at(offset: i64) -> (String, String) {
    let time = NOW.checked_add_signed(offset).unwrap();
    (time.to_string(), sign_text(TOKEN, &time.to_string()))
}

fn value() -> impl Strategy<Value = Option<Token>> {
    let good = prop_oneof![
        Just(same(RECALL)),
        Just(token("Group%2ECallbackAfterRecallMsg", RECALL)),
        Just(same("Group.CallbackAfterSendMsg")),
        Just(same("1400000000")),
        Just(token("%31400000000", "1400000000")),
        Just(same("01400000000")),
        Just(same("1400000001")),
        Just(same("json")),
        Just(same("JSON")),
        Just(same("xml")),
        Just(token("+json", " json")),
        Just(token("%FF", "\u{FFFD}")),
        Just(token("%zz", "%zz")),
        Just(same("")),
        (-90i64..90).prop_map(|offset| same(&signed_at(offset).0)),
        (-90i64..90).prop_map(|offset| same(&signed_at(offset).1)),
        (-90i64..90).prop_map(|offset| same(&signed_at(offset).1.to_ascii_uppercase())),
        Just(same(&format!("0{NOW}"))),
        "[0-9a-f]{0,4}".prop_map(|text| same(&text)),
    ];
    proptest::option::weighted(0.9, good)
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        8 => Just(Method::POST),
        1 => Just(Method::GET),
        1 => Just(Method::PUT),
    ]
}

/// A recall body from a grammar: each field present or not, of the right type or not.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let field = |name: &'static str, values: Vec<&'static str>| {
        proptest::option::of(proptest::sample::select(values))
            .prop_map(move |value| value.map(|value| format!("\"{name}\":{value}")))
    };
    let message = (
        proptest::sample::select(vec![
            "0",
            "130",
            "4294967295",
            "4294967296",
            "-1",
            "1.5",
            "\"1\"",
            "null",
            "1e400",
        ]),
        proptest::option::of(proptest::sample::select(vec!["\"144115-1\"", "7", "null"])),
    )
        .prop_map(|(seq, id)| match id {
            Some(id) => format!("{{\"MsgSeq\":{seq},\"MsgId\":{id}}}"),
            None => format!("{{\"MsgSeq\":{seq}}}"),
        });
    let messages = proptest::collection::vec(message, 0..3)
        .prop_map(|items| format!("\"MsgSeqList\":[{}]", items.join(",")));
    let grammar = (
        field(
            "CallbackCommand",
            vec![
                "\"Group.CallbackAfterRecallMsg\"",
                "\"Group.CallbackAfterSendMsg\"",
                "null",
                "1",
            ],
        ),
        field(
            "GroupId",
            vec!["\"@TGS#2J4SZEAEL\"", "\"\"", "1", "null", "[]"],
        ),
        proptest::option::weighted(0.9, messages),
        field(
            "EventTime",
            vec![
                "1670574414123",
                "\"1670574414123\"",
                "\"\"",
                "-1",
                "1.5",
                "null",
            ],
        ),
        field("Type", vec!["\"Public\"", "\"Future\"", "5"]),
        // Skipped fields are checked for syntax, not range: `1e400` there is passed on (see
        // hostile.rs), where `Value` refuses it, so the model is given only numbers it reads.
        field(
            "Unknown",
            vec!["{\"nested\":[1,2,{}]}", "-1e300", "\"\\u00e9\""],
        ),
        "[ \n]{0,2}",
    )
        .prop_map(|(a, b, c, d, e, f, space)| {
            let fields: Vec<String> = [a, b, c, d, e, f].into_iter().flatten().collect();
            format!("{space}{{{}}}{space}", fields.join(",")).into_bytes()
        });
    prop_oneof![
        4 => grammar,
        1 => Just(EVENT.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

prop_compose! {
    fn case()(
        method in method(),
        parameters in proptest::collection::vec((name(), value()), 0..8),
        signed in any::<bool>(),
        limit in prop_oneof![Just(64 * 1024), 0usize..400],
        body in body(),
        fails in proptest::bool::weighted(0.1),
    ) -> (Case, String) {
        let pairs = parameters
            .iter()
            .map(|(name, value)| {
                let value = value.as_ref().map_or(String::new(), |v| v.decoded.clone());
                (name.decoded.clone(), value)
            })
            .collect();
        let query: Vec<String> = parameters
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!("{}={}", name.raw, value.raw),
                None => name.raw.clone(),
            })
            .collect();
        let case = Case { method, pairs, signed, limit, body, fails };
        (case, query.join("&"))
    }
}

/// `RequestTime` and `Sign` made together, near the window's edges: signed correctly (in lower
/// or upper case), signed for another second, or without `Sign`.
fn signature() -> impl Strategy<Value = Vec<(Token, Option<Token>)>> {
    let offset = prop_oneof![
        Just(-61i64),
        Just(-60),
        Just(0),
        Just(60),
        Just(61),
        -90i64..90
    ];
    (offset, 0..4u8).prop_map(|(offset, variant)| {
        let (time, good) = signed_at(offset);
        let sign = match variant {
            0 => Some(good),
            1 => Some(good.to_ascii_uppercase()),
            2 => Some(signed_at(offset + 1).1),
            _ => None,
        };
        let mut parameters = vec![(same("RequestTime"), Some(same(&time)))];
        parameters.extend(sign.map(|sign| (same("Sign"), Some(same(&sign)))));
        parameters
    })
}

fn content_type() -> impl Strategy<Value = Token> {
    prop_oneof![
        Just(same("json")),
        Just(same("JSON")),
        Just(token("J%53ON", "JSON")),
        Just(same("xml")),
        Just(same("")),
    ]
}

/// A query that names the recall command and a valid app, so that the checks after them run
/// often: a signature, a `contenttype`, and a few more parameters that may repeat either.
fn recall_query() -> impl Strategy<Value = Vec<(Token, Option<Token>)>> {
    (
        proptest::option::weighted(0.8, signature()),
        proptest::option::of(content_type()),
        proptest::collection::vec((name(), value()), 0..3),
    )
        .prop_map(|(signature, content_type, extra)| {
            let mut parameters = vec![
                (same("CallbackCommand"), Some(same(RECALL))),
                (same("SdkAppid"), Some(same("1400000000"))),
            ];
            parameters.extend(signature.into_iter().flatten());
            parameters.extend(content_type.map(|value| (same("contenttype"), Some(value))));
            parameters.extend(extra);
            parameters
        })
}

/// A body limit around the body's length, or the default.
fn limit_for(body: &[u8], delta: Option<i8>) -> usize {
    match delta {
        Some(delta) => body.len().saturating_add_signed(isize::from(delta)),
        None => 64 * 1024,
    }
}

// ---------------------------------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Generated requests, from parameters and bodies built to hit every row.
    #[test]
    fn the_decision_agrees_with_the_model(
        (case, query) in case(),
        cuts in proptest::collection::vec(0usize..400, 0..4),
        content_length in any::<bool>(),
    ) {
        let expected = case.decide();
        let actual = run(&case, &query, &cuts, content_length);
        prop_assert_eq!(actual, expected, "query {:?}", query);
    }

    /// Requests that get past the query, so that signatures and bodies are decided often.
    #[test]
    fn signatures_and_bodies_agree_with_the_model(
        parameters in recall_query(),
        signed in proptest::bool::weighted(0.7),
        body in body(),
        limit in proptest::option::weighted(0.3, -1i8..=1),
        fails in proptest::bool::weighted(0.2),
        cuts in proptest::collection::vec(0usize..400, 0..4),
    ) {
        let pairs = parameters
            .iter()
            .map(|(n, v)| (n.decoded.clone(), v.as_ref().map_or(String::new(), |v| v.decoded.clone())))
            .collect();
        let query: Vec<String> = parameters
            .iter()
            .map(|(n, v)| v.as_ref().map_or(n.raw.clone(), |v| format!("{}={}", n.raw, v.raw)))
            .collect();
        let limit = limit_for(&body, limit);
        let case = Case { method: Method::POST, pairs, signed, limit, body, fails };
        let expected = case.decide();
        prop_assert_eq!(run(&case, &query.join("&"), &cuts, false), expected);
    }

    /// Arbitrary query text: whatever `http::Uri` holds is decided as its decoded pairs say.
    #[test]
    fn arbitrary_query_text_agrees_with_the_model(
        text in "([a-zA-Z0-9%&=+;.]|%[0-9A-Fa-f]{2}|CallbackCommand=Group.CallbackAfterRecallMsg|SdkAppid=1400000000|\\PC){0,24}",
        signed in any::<bool>(),
    ) {
        prop_assume!(Uri::try_from(format!("{CALLBACK_PATH}?{text}")).is_ok());
        let pairs = form_urlencoded::parse(text.as_bytes()).into_owned().collect();
        let case = Case {
            method: Method::POST,
            pairs,
            signed,
            limit: 64 * 1024,
            body: EVENT.as_bytes().to_vec(),
            fails: false,
        };
        let expected = case.decide();
        prop_assert_eq!(run(&case, &text, &[], true), expected);
    }

    /// Arbitrary bytes as the body of an otherwise valid callback.
    #[test]
    fn arbitrary_body_bytes_agree_with_the_model(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        cuts in proptest::collection::vec(0usize..200, 0..4),
    ) {
        let case = Case {
            method: Method::POST,
            pairs: vec![
                ("CallbackCommand".into(), RECALL.into()),
                ("SdkAppid".into(), APP.to_string()),
            ],
            signed: false,
            limit: 64 * 1024,
            body,
            fails: false,
        };
        let query = format!("CallbackCommand={RECALL}&SdkAppid={APP}");
        prop_assert_eq!(run(&case, &query, &cuts, false), case.decide());
    }
}

/// The generators reach every row of the table: each answer the model can give is given.
#[test]
fn the_generated_cases_reach_every_row() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeMap::new();
    for round in 0..400 {
        let (case, _) = case().new_tree(&mut runner).unwrap().current();
        *seen.entry(case.decide().status).or_insert(0) += 1;
        let parameters = recall_query().new_tree(&mut runner).unwrap().current();
        let body = body().new_tree(&mut runner).unwrap().current();
        let pairs = parameters
            .iter()
            .map(|(n, v)| {
                (
                    n.decoded.clone(),
                    v.as_ref().map_or(String::new(), |v| v.decoded.clone()),
                )
            })
            .collect();
        let method = if round % 4 == 0 {
            Method::GET
        } else {
            Method::POST
        };
        let limit = limit_for(&body, Some(-1));
        let case = Case {
            method,
            pairs,
            signed: true,
            limit,
            body,
            fails: false,
        };
        *seen.entry(case.decide().status).or_insert(0) += 1;
    }
    for status in [200, 400, 401, 403, 405, 413] {
        assert!(
            seen.get(&status).copied().unwrap_or(0) >= 10,
            "{status} is rarely generated: {seen:?}"
        );
    }
}
