//! Rows: a signed app's `RequestTime` and `Sign` missing, repeated, malformed or not matching any
//! of its tokens: 401, body unread; each app with its own tokens.

use super::*;

#[tokio::test]
async fn tencent_documentation_vector_is_accepted() {
    for (kind, query, body) in recalls() {
        // As Tencent writes it, and with names and values escaped: parameters are compared
        // after decoding.
        let time = NOW.to_string();
        for extra in [
            format!("&RequestTime={NOW}&Sign={DOC_SIGN}"),
            format!("&Request%54ime=%31{}&Sign={DOC_SIGN}", &time[1..]),
        ] {
            let query = format!("{query}{extra}");
            let event = accept(&signed_layer(), &query, full(body)).await;
            assert_eq!(event.context().request_time, Some(NOW), "{kind}");
        }
    }
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_before_the_body_is_read() {
    let stale = NOW - 61;
    let ahead = NOW + 61;
    let cases = [
        (String::new(), "RequestTime is missing"),
        (format!("&RequestTime={NOW}"), "Sign is missing"),
        (format!("&Sign={DOC_SIGN}"), "RequestTime is missing"),
        (
            format!("&RequestTime={NOW}&Sign={}", &DOC_SIGN[..63]),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign={}", "z".repeat(64)),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign="),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime=&Sign={DOC_SIGN}"),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            format!("&RequestTime={NOW}&RequestTime={NOW}&Sign={DOC_SIGN}"),
            "RequestTime is repeated",
        ),
        (
            format!("&RequestTime={NOW}&Sign={DOC_SIGN}&Sign={DOC_SIGN}"),
            "Sign is repeated",
        ),
        // Hostile spellings: no value, a raw `;`, an escape that is no hex digit, repeats.
        (
            format!("&RequestTime={NOW}&Sign"),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign=%FF{}", &DOC_SIGN[2..]),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign={DOC_SIGN};"),
            "Sign is not 64 hexadecimal digits",
        ),
        (
            format!("&RequestTime={NOW}&Sign={DOC_SIGN}&Sign"),
            "Sign is repeated",
        ),
        (
            format!("&RequestTime={NOW}&{}", repeated("Sign", 10_000)),
            "Sign is repeated",
        ),
        (
            format!("&RequestTime&Sign={DOC_SIGN}"),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            format!("&RequestTime=%FF&Sign={DOC_SIGN}"),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            format!("&RequestTime={NOW};&Sign={DOC_SIGN}"),
            "RequestTime is not a decimal number of seconds",
        ),
        (
            format!("&RequestTime={NOW}&RequestTime=&Sign={DOC_SIGN}"),
            "RequestTime is repeated",
        ),
        (
            format!("&RequestTime={stale}&Sign={}", sign(TOKEN, stale)),
            TOO_OLD,
        ),
        (
            format!("&RequestTime={ahead}&Sign={}", sign(TOKEN, ahead)),
            AHEAD,
        ),
        (
            format!("&RequestTime={}&Sign={DOC_SIGN}", NOW + 1),
            "Sign does not match",
        ),
        (
            format!("&RequestTime={NOW}&Sign={}", sign("another token", NOW)),
            "Sign does not match",
        ),
    ];
    for (extra, reason) in cases {
        unauthorized(&extra, reason).await;
    }
}

#[tokio::test]
async fn request_time_must_be_the_plain_decimal_seconds() {
    // Each signed over its exact (decoded) text, as Tencent would sign it, so that only the
    // spelling of the time is at fault.
    let cases = [
        ("18446744073709551616", "18446744073709551616".to_owned()),
        ("-1", "-1".to_owned()),
        ("+60", " 60".to_owned()),
        ("%2B60", "+60".to_owned()),
        ("%2B1669872112", format!("+{NOW}")),
        ("01669872112", format!("0{NOW}")),
        ("111111111111111111111111111111", "1".repeat(30)),
        ("%00", "\0".to_owned()),
        ("1669872112.0", format!("{NOW}.0")),
    ];
    for (raw, decoded) in cases {
        let extra = format!("&RequestTime={raw}&Sign={}", sign_text(TOKEN, &decoded));
        unauthorized(&extra, "RequestTime is not a decimal number of seconds").await;
    }
    // The largest and the smallest times there are, well spelled: only outside the window.
    let max = u64::MAX;
    unauthorized(
        &format!("&RequestTime={max}&Sign={}", sign(TOKEN, max)),
        AHEAD,
    )
    .await;
    unauthorized(&format!("&RequestTime=0&Sign={}", sign(TOKEN, 0)), TOO_OLD).await;
}

#[tokio::test]
async fn upper_case_hex_sign_is_accepted_and_malformed_signs_are_not() {
    let mut mixed = DOC_SIGN.to_owned();
    mixed.replace_range(..8, &DOC_SIGN[..8].to_ascii_uppercase());
    for spelling in [DOC_SIGN.to_ascii_uppercase(), mixed] {
        let query = query_with(&format!("&RequestTime={NOW}&Sign={spelling}"));
        accept(&signed_layer(), &query, full(EVENT)).await;
    }
    for bad in [
        DOC_SIGN[..62].to_owned(),
        format!("{DOC_SIGN}00"),
        format!("{}G", &DOC_SIGN[..63]),
        format!("{}%20", &DOC_SIGN[..63]),
        format!("0x{}", &DOC_SIGN[..62]),
        format!("{}%C3%A9", &DOC_SIGN[..62]),
        DOC_SIGN.repeat(100),
    ] {
        let extra = format!("&RequestTime={NOW}&Sign={bad}");
        unauthorized(&extra, "Sign is not 64 hexadecimal digits").await;
    }
}

#[tokio::test]
async fn the_app_is_checked_before_the_signature() {
    for &kind in RecallKind::ALL {
        let query = format!("SdkAppid=1&{}", command_of(kind));
        let reason = "SdkAppid is not allowed";
        refused_unread(&signed_layer(), &query, StatusCode::FORBIDDEN, reason).await;
    }
}

#[tokio::test]
async fn without_a_token_signature_parameters_are_ignored() {
    for (_, query, body) in recalls() {
        let query = format!("{query}&RequestTime=garbage&Sign=garbage");
        let event = accept(&layer(), &query, full(body)).await;
        assert_eq!(event.context().request_time, None);
    }
}

const PRODUCTION: u64 = APP;
const STAGING: u64 = SECOND_APP;
const OPEN: u64 = 1_400_000_002;
const CURRENT: &str = "current-token";
const PREVIOUS: &str = "previous-token";
const STAGING_TOKEN: &str = "staging-token";

fn per_app_layer() -> RecallLayer {
    RecallLayer::builder()
        .signed_app(PRODUCTION, [CURRENT, PREVIOUS])
        .signed_app(STAGING, [STAGING_TOKEN])
        .unsigned_app(OPEN)
        .allow_unsigned_apps()
        .clock(|| at(NOW))
        .build()
        .unwrap()
}

fn query_for(app: u64, token: Option<&str>) -> String {
    let mut query = format!("SdkAppid={app}&{COMMAND}&contenttype=json");
    if let Some(token) = token {
        query.push_str(&format!("&RequestTime={NOW}&Sign={}", sign(token, NOW)));
    }
    query
}

/// Sends a callback for `app`, signed with `token`, through `layer`, and checks that it is
/// accepted, or refused with this reason; every answer is free of tokens and signatures (the
/// refusals are compared byte for byte).
async fn check_app(
    layer: &RecallLayer,
    app: u64,
    token: Option<&str>,
    refusal: Option<(StatusCode, &str)>,
) {
    let (answer, recorder) = send(layer, post(&query_for(app, token), full(EVENT))).await;
    match refusal {
        None => {
            answer.assert_inner();
            let event = recorder.event().unwrap();
            assert_eq!(event.context().sdk_app_id, SdkAppId::new(app));
        }
        Some((status, reason)) => {
            answer.assert_fail(status, reason);
            assert_eq!(recorder.calls(), 0);
        }
    }
}

#[tokio::test]
async fn each_app_accepts_its_own_tokens_only() {
    let layer = per_app_layer();
    let mismatch = Some((StatusCode::UNAUTHORIZED, "Sign does not match"));
    let unsigned = Some((StatusCode::UNAUTHORIZED, "RequestTime is missing"));
    let cases = [
        (PRODUCTION, Some(CURRENT), None),
        (PRODUCTION, Some(PREVIOUS), None),
        (PRODUCTION, Some(STAGING_TOKEN), mismatch),
        (PRODUCTION, Some("third-token"), mismatch),
        (PRODUCTION, None, unsigned),
        (STAGING, Some(STAGING_TOKEN), None),
        (STAGING, Some(CURRENT), mismatch),
        (STAGING, Some(PREVIOUS), mismatch),
        (STAGING, None, unsigned),
        // The unsigned app needs no signature, and ignores one.
        (OPEN, None, None),
        (OPEN, Some("anything"), None),
        (
            1_400_000_003,
            Some(CURRENT),
            Some((StatusCode::FORBIDDEN, "SdkAppid is not allowed")),
        ),
    ];
    for (app, token, refusal) in cases {
        check_app(&layer, app, token, refusal).await;
    }
}

#[tokio::test]
async fn an_unsigned_app_ignores_sign_and_request_time() {
    let query = format!("{}&RequestTime=garbage&Sign=garbage", query_for(OPEN, None));
    let event = accept(&per_app_layer(), &query, full(EVENT)).await;
    assert_eq!(event.context().request_time, None);
}

#[tokio::test]
async fn rotation_with_the_common_constructor() {
    let layer = RecallLayer::builder()
        .signed_app(APP, [CURRENT, PREVIOUS])
        .signed_app(SECOND_APP, [CURRENT, PREVIOUS])
        .clock(|| at(NOW))
        .build()
        .unwrap();
    let mismatch = Some((StatusCode::UNAUTHORIZED, "Sign does not match"));
    for app in [APP, SECOND_APP] {
        check_app(&layer, app, Some(CURRENT), None).await;
        check_app(&layer, app, Some(PREVIOUS), None).await;
        check_app(&layer, app, Some("third-token"), mismatch).await;
    }
    // `RecallLayer::new` signs every app alike, with the system clock: a callback signed now.
    let layer = RecallLayer::new([APP, SECOND_APP], [CURRENT, PREVIOUS]).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for token in [CURRENT, PREVIOUS] {
        let query = format!(
            "SdkAppid={SECOND_APP}&{COMMAND}&RequestTime={now}&Sign={}",
            sign(token, now)
        );
        accept(&layer, &query, full(EVENT)).await;
    }
}

#[tokio::test]
async fn the_per_app_layer_keeps_the_decision_order() {
    let layer = per_app_layer();
    // Method before app, app before signature, signature before the query's shape and the body.
    let get = request(Method::GET, &query_for(1, None), UNREAD);
    let reason = "callbacks must be sent with POST";
    refused(&layer, get, StatusCode::METHOD_NOT_ALLOWED, reason).await;
    let query = format!("{}&contenttype=xml", query_for(PRODUCTION, Some("wrong")));
    refused_unread(
        &layer,
        &query,
        StatusCode::UNAUTHORIZED,
        "Sign does not match",
    )
    .await;
    let query = format!("{}&contenttype=xml", query_for(PRODUCTION, Some(CURRENT)));
    let reason = "contenttype is repeated";
    refused_unread(&layer, &query, StatusCode::BAD_REQUEST, reason).await;
    let query = format!("{}&contenttype=xml", query_for(OPEN, None));
    refused_unread(&layer, &query, StatusCode::BAD_REQUEST, reason).await;
}
