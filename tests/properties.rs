//! Property tests: for any request, and any layer (signed or not, guarded or not, taking any
//! set of the three recall kinds), the layer's decision (the status, and whether the inner
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
use tower_tim_recall::{Ack, RecallKind, RecallLayer};

use support::bodies::{End, Script};
use support::fixtures::{at, APP, CALLBACK_PATH, EVENT, NOW, OFFICIAL_ACCOUNT, ONE_TO_ONE, TOKEN};
use support::{sign_text, Answer, Recorder};

/// The layer's bounds on `RequestTime`, set apart so that each is tried on its own.
const MAX_AGE: u64 = 60;
const MAX_AHEAD: u64 = 30;
const RECALL: &str = "Group.CallbackAfterRecallMsg";
const C2C: &str = "C2C.CallbackAfterMsgWithDraw";
const OFFICIAL: &str = "OfficialAccount.CallbackAfterMsgWithDraw";
const OTHER: &str = "State.StateChange";

/// The sets of recall kinds the layers under test take.
const KIND_SETS: [&[RecallKind]; 4] = [
    RecallKind::ALL,
    &[RecallKind::Group],
    &[RecallKind::OneToOne, RecallKind::OfficialAccount],
    &[RecallKind::OfficialAccount],
];

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
    /// Whether the layer guards the other commands.
    guard: bool,
    /// The recall kinds the layer takes.
    recalls: &'static [RecallKind],
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
        let commands = self.values("CallbackCommand");
        // The first command that names a recall the layer takes decides the kind.
        let kind = commands.iter().find_map(|command| {
            let kind = RecallKind::from_command(command)?;
            self.recalls.contains(&kind).then_some(kind)
        });
        let Some(kind) = kind else {
            // Not a recall callback: passed through, after the app and the signature for
            // another command under the guard.
            if self.guard && !commands.is_empty() {
                if let Some(refusal) = self.app_and_signature() {
                    return refusal;
                }
            }
            return INNER;
        };
        if self.method != Method::POST {
            return refuse(405);
        }
        if let Some(refusal) = self.app_and_signature() {
            return refusal;
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
        if self.fails || !body_is_event(kind, &self.body) {
            return refuse(400);
        }
        INNER
    }

    /// `SdkAppid` once, decimal digits only, in the allowlist; then the signature.
    fn app_and_signature(&self) -> Option<Decision> {
        let app = self.single("SdkAppid").and_then(|text| {
            let digits = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
            digits.then(|| text.parse::<u64>().ok()).flatten()
        });
        if app != Some(APP) {
            return Some(refuse(403));
        }
        if self.signed && !self.signature_ok() {
            return Some(refuse(401));
        }
        None
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
        if !(NOW - MAX_AGE..=NOW + MAX_AHEAD).contains(&seconds) {
            return false;
        }
        sign.to_ascii_lowercase() == sign_text(TOKEN, time)
    }
}

/// Whether `body` is a recall event of `kind`: one JSON object (no byte-order mark, UTF-8),
/// with the kind's required fields of their types, its optional fields of their types or
/// null when present, and a `CallbackCommand` that is absent, null or the kind's. Generated
/// bodies never repeat a key, which `Value` could not see.
fn body_is_event(kind: RecallKind, body: &[u8]) -> bool {
    let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let string = |field: &str| matches!(event.get(field), Some(Value::String(_)));
    let string_or_null = |field: &str| {
        matches!(
            event.get(field),
            None | Some(Value::Null | Value::String(_))
        )
    };
    let list_of = |field: &str, item_ok: &dyn Fn(&Value) -> bool| {
        event
            .get(field)
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().all(|item| item.is_object() && item_ok(item)))
    };
    let time_ok = match event.get("EventTime") {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.is_u64(),
        Some(Value::String(s)) => {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && s.parse::<u64>().is_ok()
        }
        Some(_) => false,
    };
    let command_ok = match event.get("CallbackCommand") {
        None | Some(Value::Null) => true,
        Some(command) => command == kind.command(),
    };
    let fields_ok = match kind {
        RecallKind::Group => {
            let message_ok = |message: &Value| {
                let seq_ok = message
                    .get("MsgSeq")
                    .and_then(Value::as_u64)
                    .is_some_and(|seq| seq <= u64::from(u32::MAX));
                let id_ok = matches!(
                    message.get("MsgId"),
                    None | Some(Value::Null | Value::String(_))
                );
                seq_ok && id_ok
            };
            string("GroupId")
                && list_of("MsgSeqList", &message_ok)
                && string_or_null("Operator_Account")
                && string_or_null("Type")
                && string_or_null("TopicId")
        }
        RecallKind::OneToOne => {
            let unread_ok = match event.get("UnreadMsgNum") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.is_i64(),
                Some(_) => false,
            };
            string("From_Account") && string("To_Account") && string("MsgKey") && unread_ok
        }
        _ => {
            let message_ok =
                |message: &Value| matches!(message.get("MsgKey"), Some(Value::String(_)));
            string("Official_Account") && list_of("WithdrawMsgList", &message_ok)
        }
    };
    fields_ok && time_ok && command_ok
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
    let mut builder = RecallLayer::builder()
        .body_limit(case.limit)
        .recalls(case.recalls.iter().copied())
        .max_age(std::time::Duration::from_secs(MAX_AGE))
        .max_ahead(std::time::Duration::from_secs(MAX_AHEAD))
        .clock(|| at(NOW));
    if case.guard {
        builder = builder.guard_other_commands();
    }
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
        // decides the status; the reasons are pinned in `tests/decision_table`).
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
        Just(same(C2C)),
        Just(token("C2C.Callback%41fterMsgWithDraw", C2C)),
        Just(same(OFFICIAL)),
        Just(same("Group.CallbackAfterSendMsg")),
        Just(same(OTHER)),
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

/// An optional field `"name":value`, present half the time, its value one of `values`.
fn field(name: &'static str, values: Vec<&'static str>) -> impl Strategy<Value = Option<String>> {
    present(0.5, name, values)
}

/// A required field, there nine times out of ten, most often with its first value (of the
/// right type): the bodies of the grammar are valid often enough for every row to be reached.
fn required(
    name: &'static str,
    values: Vec<&'static str>,
) -> impl Strategy<Value = Option<String>> {
    let mut weighted = vec![values[0]; values.len() * 2];
    weighted.extend(values);
    present(0.9, name, weighted)
}

fn present(
    probability: f64,
    name: &'static str,
    values: Vec<&'static str>,
) -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(probability, proptest::sample::select(values))
        .prop_map(move |value| value.map(|value| format!("\"{name}\":{value}")))
}

/// `"name":[…]` with up to two items made by `item`, or nothing.
fn list(
    name: &'static str,
    item: impl Strategy<Value = String>,
) -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(
        0.9,
        proptest::collection::vec(item, 0..3)
            .prop_map(move |items| format!("\"{name}\":[{}]", items.join(","))),
    )
}

/// The fields of a group recall, each present or not, of the right type or not.
fn group_fields() -> impl Strategy<Value = Vec<Option<String>>> {
    let message = (
        // Valid ones most often: a list is valid only when all its items are.
        proptest::sample::select(vec![
            "0",
            "130",
            "130",
            "130",
            "130",
            "4294967295",
            "4294967296",
            "-1",
            "1.5",
            "\"1\"",
            "null",
            "1e400",
        ]),
        proptest::option::of(proptest::sample::select(vec![
            "\"144115-1\"",
            "\"144115-1\"",
            "7",
            "null",
        ])),
    )
        .prop_map(|(seq, id)| match id {
            Some(id) => format!("{{\"MsgSeq\":{seq},\"MsgId\":{id}}}"),
            None => format!("{{\"MsgSeq\":{seq}}}"),
        });
    (
        required(
            "GroupId",
            vec!["\"@TGS#2J4SZEAEL\"", "\"\"", "1", "null", "[]"],
        ),
        list("MsgSeqList", message),
        field("Type", vec!["\"Public\"", "\"Future\"", "5"]),
    )
        .prop_map(|(a, b, c)| vec![a, b, c])
}

/// The fields of a one-to-one recall, likewise.
fn one_to_one_fields() -> impl Strategy<Value = Vec<Option<String>>> {
    let account = || vec!["\"jared\"", "\"\"", "7", "null"];
    (
        required("From_Account", account()),
        required("To_Account", account()),
        required("MsgKey", vec!["\"1_2_3\"", "\"\"", "48374", "null"]),
        field(
            "UnreadMsgNum",
            vec![
                "7",
                "-1",
                "0",
                "9223372036854775807",
                "9223372036854775808",
                "1.5",
                "\"7\"",
                "null",
            ],
        ),
    )
        .prop_map(|(a, b, c, d)| vec![a, b, c, d])
}

/// The fields of an official-account recall, likewise.
fn official_account_fields() -> impl Strategy<Value = Vec<Option<String>>> {
    let message = proptest::sample::select(vec![
        r#"{"MsgKey":"71_1_1698741698"}"#,
        r#"{"MsgKey":""}"#,
        r#"{"MsgKey":1}"#,
        r#"{}"#,
        r#""k""#,
    ])
    .prop_map(str::to_owned);
    (
        required(
            "Official_Account",
            vec!["\"#TOA#_123\"", "\"\"", "1", "null"],
        ),
        list("WithdrawMsgList", message),
    )
        .prop_map(|(a, b)| vec![a, b])
}

/// A body from the grammar: `fields`, with a `CallbackCommand` or not, an `EventTime` and an
/// unknown field or not, and whitespace around.
fn grammar(
    fields: impl Strategy<Value = Vec<Option<String>>>,
    command: impl Strategy<Value = Option<String>>,
) -> impl Strategy<Value = Vec<u8>> {
    (
        command,
        fields,
        field(
            "EventTime",
            vec![
                "1670574414123",
                "1670574414123",
                "\"1670574414123\"",
                "\"1670574414123\"",
                "\"\"",
                "-1",
                "1.5",
                "null",
            ],
        ),
        // Skipped fields are checked for syntax, not range: `1e400` there is passed on (see
        // tests/decision_table/body.rs), where `Value` refuses it, so the model is given only numbers it reads.
        field(
            "Unknown",
            vec!["{\"nested\":[1,2,{}]}", "-1e300", "\"\\u00e9\""],
        ),
        "[ \n]{0,2}",
    )
        .prop_map(|(command, fields, time, unknown, space)| {
            let fields: Vec<String> = [command]
                .into_iter()
                .chain(fields)
                .chain([time, unknown])
                .flatten()
                .collect();
            format!("{space}{{{}}}{space}", fields.join(",")).into_bytes()
        })
}

/// Any body: the fields of one kind or another under any command, a documented body, or bytes.
fn body() -> BoxedStrategy<Vec<u8>> {
    let fields = prop_oneof![
        group_fields(),
        one_to_one_fields(),
        official_account_fields()
    ];
    let command = field(
        "CallbackCommand",
        vec![
            "\"Group.CallbackAfterRecallMsg\"",
            "\"C2C.CallbackAfterMsgWithDraw\"",
            "\"OfficialAccount.CallbackAfterMsgWithDraw\"",
            "\"Group.CallbackAfterSendMsg\"",
            "null",
            "1",
        ],
    );
    prop_oneof![
        6 => grammar(fields, command),
        1 => Just(EVENT.as_bytes().to_vec()),
        1 => Just(ONE_TO_ONE.as_bytes().to_vec()),
        1 => Just(OFFICIAL_ACCOUNT.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
    .boxed()
}

/// A body for a callback under `command`: most often the fields of its kind, with its own
/// command or none; any body otherwise.
fn body_for(command: &str) -> BoxedStrategy<Vec<u8>> {
    let Some(kind) = RecallKind::from_command(command) else {
        return body();
    };
    let fields = match kind {
        RecallKind::Group => group_fields().boxed(),
        RecallKind::OneToOne => one_to_one_fields().boxed(),
        _ => official_account_fields().boxed(),
    };
    let own = format!("\"CallbackCommand\":\"{}\"", kind.command());
    let command = prop_oneof![
        Just(Some(own)),
        Just(None),
        Just(Some("\"CallbackCommand\":null".to_owned()))
    ];
    prop_oneof![
        2 => valid_body(kind).prop_map(String::into_bytes),
        3 => grammar(fields, command),
        1 => body(),
    ]
    .boxed()
}

/// A layer's configuration: signed or not, guarded or not, and the kinds it takes.
fn layer_setup() -> impl Strategy<Value = (bool, bool, &'static [RecallKind])> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::sample::select(KIND_SETS.to_vec()),
    )
}

prop_compose! {
    fn case()(
        method in method(),
        parameters in proptest::collection::vec((name(), value()), 0..8),
        (signed, guard, recalls) in layer_setup(),
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
        let case = Case { method, pairs, signed, guard, recalls, limit, body, fails };
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
        Just(30),
        Just(31),
        Just(60),
        Just(61),
        -90i64..90
    ];
    (offset, 0..6u8).prop_map(|(offset, variant)| {
        let (time, good) = signed_at(offset);
        let sign = match variant {
            0..=2 => Some(good),
            3 => Some(good.to_ascii_uppercase()),
            4 => Some(signed_at(offset + 1).1),
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

/// A query that names a command (a recall most often) and a valid app, so that the checks
/// after them run often: a signature, a `contenttype`, and a few more parameters that may
/// repeat either; and a body, most often of the command's kind.
fn recall_query() -> impl Strategy<Value = (Vec<(Token, Option<Token>)>, Vec<u8>)> {
    proptest::sample::select(vec![RECALL, RECALL, C2C, C2C, OFFICIAL, OFFICIAL, OTHER])
        .prop_flat_map(|command| {
            (
                proptest::option::weighted(0.8, signature()),
                proptest::option::of(content_type()),
                proptest::collection::vec((name(), value()), 0..3),
                body_for(command),
            )
                .prop_map(move |(signature, content_type, extra, body)| {
                    let mut parameters = vec![
                        (same("CallbackCommand"), Some(same(command))),
                        (same("SdkAppid"), Some(same("1400000000"))),
                    ];
                    parameters.extend(signature.into_iter().flatten());
                    parameters.extend(content_type.map(|value| (same("contenttype"), Some(value))));
                    parameters.extend(extra);
                    (parameters, body)
                })
        })
}

/// A request that names a command (a recall most often) and a valid app, with a body most
/// often of the command's kind, to a layer of any settings: the query as it is sent, and the
/// case the model decides.
fn recall_case() -> impl Strategy<Value = (Case, String)> {
    (
        recall_query(),
        proptest::bool::weighted(0.5),
        layer_setup(),
        // A limit just under, at or over the body's length, or the default.
        proptest::option::weighted(
            0.5,
            prop_oneof![2 => Just(-1i8), 1 => Just(0), 1 => Just(1)],
        ),
        proptest::bool::weighted(0.1),
        prop_oneof![9 => Just(Method::POST), 1 => Just(Method::GET)],
    )
        .prop_map(
            |((parameters, body), signed, (_, guard, recalls), limit, fails, method)| {
                let pairs = parameters
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.decoded.clone(),
                            v.as_ref().map_or(String::new(), |v| v.decoded.clone()),
                        )
                    })
                    .collect();
                let query: Vec<String> = parameters
                    .iter()
                    .map(|(n, v)| {
                        v.as_ref()
                            .map_or(n.raw.clone(), |v| format!("{}={}", n.raw, v.raw))
                    })
                    .collect();
                let limit = limit_for(&body, limit);
                let case = Case {
                    method,
                    pairs,
                    signed,
                    guard,
                    recalls,
                    limit,
                    body,
                    fails,
                };
                (case, query.join("&"))
            },
        )
}

/// A valid body of a recall of any kind, and its kind.
fn valid_recall() -> impl Strategy<Value = (RecallKind, String)> {
    proptest::sample::select(RecallKind::ALL.to_vec())
        .prop_flat_map(|kind| (Just(kind), valid_body(kind)))
}

/// A valid body of a recall of `kind`: its required fields, any of its optional ones, a
/// `CallbackCommand` that is its own or none, unknown fields, all in any order.
fn valid_body(kind: RecallKind) -> BoxedStrategy<String> {
    let text = || "[a-zA-Z0-9#@_ .-]{0,12}".prop_map(|text| format!("\"{text}\""));
    let time = || {
        prop_oneof![
            any::<u64>().prop_map(|t| t.to_string()),
            any::<u64>().prop_map(|t| format!("\"{t}\"")),
            Just("null".to_owned())
        ]
    };
    let optional = |name: &'static str, value: BoxedStrategy<String>| {
        proptest::option::of(value)
            .prop_map(move |value| value.map(|value| format!("\"{name}\":{value}")))
    };
    let unknown = proptest::collection::vec(
        prop_oneof![
            Just(r#""NewField":{"a":[1,2.5,null,true]}"#.to_owned()),
            Just(r#""SdkAppid":"any""#.to_owned()),
            Just(r#""CloudCustomData":"\u00e9""#.to_owned()),
        ],
        0..2,
    );
    let group = (
        text(),
        proptest::collection::vec(
            (any::<u32>(), proptest::option::of(text())).prop_map(|(seq, id)| match id {
                Some(id) => format!(r#"{{"MsgSeq":{seq},"MsgId":{id}}}"#),
                None => format!(r#"{{"MsgSeq":{seq}}}"#),
            }),
            0..4,
        ),
        optional("Operator_Account", text().boxed()),
        optional("Type", text().boxed()),
        optional("TopicId", text().boxed()),
        optional("EventTime", time().boxed()),
    )
        .prop_map(|(group, messages, a, b, c, d)| {
            let mut fields = vec![
                format!("\"GroupId\":{group}"),
                format!("\"MsgSeqList\":[{}]", messages.join(",")),
            ];
            fields.extend([a, b, c, d].into_iter().flatten());
            fields
        });
    let one_to_one = (
        text(),
        text(),
        text(),
        optional(
            "UnreadMsgNum",
            any::<i64>().prop_map(|n| n.to_string()).boxed(),
        ),
        optional("EventTime", time().boxed()),
    )
        .prop_map(|(from, to, key, unread, time)| {
            let mut fields = vec![
                format!("\"From_Account\":{from}"),
                format!("\"To_Account\":{to}"),
                format!("\"MsgKey\":{key}"),
            ];
            fields.extend([unread, time].into_iter().flatten());
            fields
        });
    let official = (
        text(),
        proptest::collection::vec(
            text().prop_map(|key| format!(r#"{{"MsgKey":{key}}}"#)),
            0..4,
        ),
        optional("EventTime", time().boxed()),
    )
        .prop_map(|(account, messages, time)| {
            let mut fields = vec![
                format!("\"Official_Account\":{account}"),
                format!("\"WithdrawMsgList\":[{}]", messages.join(",")),
            ];
            fields.extend(time);
            fields
        });
    let fields = match kind {
        RecallKind::Group => group.boxed(),
        RecallKind::OneToOne => one_to_one.boxed(),
        _ => official.boxed(),
    };
    (fields, any::<bool>(), unknown)
        .prop_flat_map(move |(mut fields, with_command, unknown)| {
            if with_command {
                fields.push(format!("\"CallbackCommand\":\"{}\"", kind.command()));
            }
            fields.extend(unknown);
            Just(fields).prop_shuffle()
        })
        .prop_map(|fields| format!("{{{}}}", fields.join(",")))
        .boxed()
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
        (case, query) in recall_case(),
        cuts in proptest::collection::vec(0usize..400, 0..4),
    ) {
        let expected = case.decide();
        prop_assert_eq!(run(&case, &query, &cuts, false), expected);
    }

    /// A valid recall of any kind, its fields in any order and with unknown ones among them,
    /// is accepted by a layer that takes its kind, whatever the layer's other settings.
    #[test]
    fn every_valid_recall_is_accepted(
        (kind, body) in valid_recall(),
        (_, guard, _) in layer_setup(),
        cuts in proptest::collection::vec(0usize..400, 0..4),
        content_length in any::<bool>(),
    ) {
        let case = Case {
            method: Method::POST,
            pairs: vec![
                ("SdkAppid".into(), APP.to_string()),
                ("CallbackCommand".into(), kind.command().into()),
            ],
            signed: false,
            guard,
            recalls: RecallKind::ALL,
            limit: 64 * 1024,
            body: body.into_bytes(),
            fails: false,
        };
        prop_assert_eq!(case.decide(), INNER);
        let query = format!("SdkAppid={APP}&CallbackCommand={}", kind.command());
        prop_assert_eq!(run(&case, &query, &cuts, content_length), INNER);
    }

    /// Arbitrary query text: whatever `http::Uri` holds is decided as its decoded pairs say.
    #[test]
    fn arbitrary_query_text_agrees_with_the_model(
        text in "([a-zA-Z0-9%&=+;.]|%[0-9A-Fa-f]{2}|CallbackCommand=Group.CallbackAfterRecallMsg|CallbackCommand=C2C.CallbackAfterMsgWithDraw|CallbackCommand=State.StateChange|SdkAppid=1400000000|\\PC){0,24}",
        (signed, guard, recalls) in layer_setup(),
    ) {
        let Ok(uri) = Uri::try_from(format!("{CALLBACK_PATH}?{text}")) else {
            return Err(TestCaseError::reject("not a URI"));
        };
        // The query the URI holds: a `#` ends it.
        let query = uri.query().unwrap_or_default();
        let pairs = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let case = Case {
            method: Method::POST,
            pairs,
            signed,
            guard,
            recalls,
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
        kind in proptest::sample::select(RecallKind::ALL.to_vec()),
    ) {
        let case = Case {
            method: Method::POST,
            pairs: vec![
                ("CallbackCommand".into(), kind.command().into()),
                ("SdkAppid".into(), APP.to_string()),
            ],
            signed: false,
            guard: false,
            recalls: RecallKind::ALL,
            limit: 64 * 1024,
            body,
            fails: false,
        };
        let query = format!("CallbackCommand={}&SdkAppid={APP}", kind.command());
        prop_assert_eq!(run(&case, &query, &cuts, false), case.decide());
    }
}

/// The kind whose fields `body` has, by its first required field.
fn body_kind(body: &[u8]) -> Option<RecallKind> {
    let text = String::from_utf8_lossy(body);
    [
        ("GroupId", RecallKind::Group),
        ("From_Account", RecallKind::OneToOne),
        ("Official_Account", RecallKind::OfficialAccount),
    ]
    .into_iter()
    .find(|(field, _)| text.contains(field))
    .map(|(_, kind)| kind)
}

/// The generators reach every row of the table: each answer the model can give is given.
#[test]
fn the_generated_cases_reach_every_row() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeMap::new();
    let mut guarded = std::collections::BTreeMap::new();
    let mut valid_kinds = std::collections::BTreeMap::new();
    for _ in 0..1200 {
        let (case, _) = case().new_tree(&mut runner).unwrap().current();
        *seen.entry(case.decide().status).or_insert(0) += 1;
        let (case, _) = recall_case().new_tree(&mut runner).unwrap().current();
        let decision = case.decide();
        *seen.entry(decision.status).or_insert(0) += 1;
        let other = !case.values("CallbackCommand").iter().any(|command| {
            RecallKind::from_command(command).is_some_and(|kind| case.recalls.contains(&kind))
        });
        if case.guard && other && !case.values("CallbackCommand").is_empty() {
            *guarded.entry(decision.status).or_insert(0) += 1;
        }
        let valid = decision == INNER && !other;
        if let Some(kind) = valid.then(|| body_kind(&case.body)).flatten() {
            *valid_kinds.entry(kind.command()).or_insert(0) += 1;
        }
    }
    for status in [200, 400, 401, 403, 405, 413] {
        assert!(
            seen.get(&status).copied().unwrap_or(0) >= 20,
            "{status} is rarely generated: {seen:?}"
        );
    }
    for status in [200, 401] {
        assert!(
            guarded.get(&status).copied().unwrap_or(0) >= 15,
            "guarded commands rarely get {status}: {guarded:?}"
        );
    }
    println!("{seen:?} {guarded:?} {valid_kinds:?}");
    for &kind in RecallKind::ALL {
        assert!(
            valid_kinds.get(kind.command()).copied().unwrap_or(0) >= 10,
            "valid {kind} bodies are rarely generated: {valid_kinds:?}"
        );
    }
}
