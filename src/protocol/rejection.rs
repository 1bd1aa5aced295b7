//! Why the layer refused a callback, and the status it answers with: the `FAIL` rows of the
//! decision table.

use std::borrow::Cow;

use bytes::Bytes;
use http::StatusCode;

use super::ack::Ack;

/// A refused callback: the HTTP status of the answer and the short reason put in `ErrorInfo`.
///
/// The reason is written for the operator who reads Tencent's callback failure log; it never
/// carries a token or a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    status: StatusCode,
    reason: Cow<'static, str>,
    /// For a fixed reason, the whole answer's JSON, written at compile time.
    json: Option<&'static str>,
}

/// A refusal with a fixed reason, its `FAIL` acknowledgement written out in full so that
/// answering it costs no serialization: `fixed!(FORBIDDEN = 403, "reason")`. The reason must
/// need no JSON escape (a test checks each against `serde_json`).
macro_rules! fixed {
    ($status:ident = $code:literal, $reason:literal) => {
        Rejection {
            status: StatusCode::$status,
            reason: Cow::Borrowed($reason),
            json: Some(concat!(
                r#"{"ActionStatus":"FAIL","ErrorInfo":""#,
                $reason,
                r#"","ErrorCode":"#,
                $code,
                "}"
            )),
        }
    };
}

/// The longest `ErrorInfo` the layer writes, in bytes.
const MAX_REASON: usize = 160;

impl Rejection {
    /// The recall command came with another method than `POST`.
    pub(crate) const METHOD: Self =
        fixed!(METHOD_NOT_ALLOWED = 405, "callbacks must be sent with POST");

    pub(crate) const APP_MISSING: Self = fixed!(FORBIDDEN = 403, "SdkAppid is missing");
    pub(crate) const APP_REPEATED: Self = fixed!(FORBIDDEN = 403, "SdkAppid is repeated");
    pub(crate) const APP_MALFORMED: Self =
        fixed!(FORBIDDEN = 403, "SdkAppid is not a decimal integer");
    pub(crate) const APP_NOT_ALLOWED: Self = fixed!(FORBIDDEN = 403, "SdkAppid is not allowed");

    pub(crate) const SIGN_MISSING: Self = fixed!(UNAUTHORIZED = 401, "Sign is missing");
    pub(crate) const SIGN_REPEATED: Self = fixed!(UNAUTHORIZED = 401, "Sign is repeated");
    pub(crate) const SIGN_MALFORMED: Self =
        fixed!(UNAUTHORIZED = 401, "Sign is not 64 hexadecimal digits");
    pub(crate) const SIGN_MISMATCH: Self = fixed!(UNAUTHORIZED = 401, "Sign does not match");
    pub(crate) const TIME_MISSING: Self = fixed!(UNAUTHORIZED = 401, "RequestTime is missing");
    pub(crate) const TIME_REPEATED: Self = fixed!(UNAUTHORIZED = 401, "RequestTime is repeated");
    pub(crate) const TIME_MALFORMED: Self = fixed!(
        UNAUTHORIZED = 401,
        "RequestTime is not a decimal number of seconds"
    );
    pub(crate) const TIME_TOO_OLD: Self = fixed!(UNAUTHORIZED = 401, "RequestTime is too old");
    pub(crate) const TIME_AHEAD: Self =
        fixed!(UNAUTHORIZED = 401, "RequestTime is too far in the future");

    pub(crate) const TOO_LARGE: Self =
        fixed!(PAYLOAD_TOO_LARGE = 413, "body is larger than the limit");
    pub(crate) const TOO_MANY_MESSAGES: Self = fixed!(
        PAYLOAD_TOO_LARGE = 413,
        "body names more messages than the limit"
    );

    pub(crate) const COMMAND_REPEATED: Self =
        fixed!(BAD_REQUEST = 400, "CallbackCommand is repeated");
    pub(crate) const CONTENT_TYPE: Self = fixed!(BAD_REQUEST = 400, "contenttype is not json");
    pub(crate) const CONTENT_TYPE_REPEATED: Self =
        fixed!(BAD_REQUEST = 400, "contenttype is repeated");
    pub(crate) const BODY_UNREADABLE: Self = fixed!(BAD_REQUEST = 400, "body could not be read");
    pub(crate) const NOT_AN_OBJECT: Self = fixed!(BAD_REQUEST = 400, "body is not a JSON object");
    pub(crate) const NOT_UTF8: Self = fixed!(BAD_REQUEST = 400, "body is not UTF-8");
    pub(crate) const TOO_DEEP: Self = fixed!(BAD_REQUEST = 400, "body is nested too deep");
    pub(crate) const COMMAND_MISMATCH: Self = fixed!(
        BAD_REQUEST = 400,
        "the body's CallbackCommand is not the query's"
    );

    /// The body is not a recall event of its kind; `detail` says which field is wrong. Kept
    /// short: a parser's message may quote a long value from the body.
    pub(crate) fn invalid_body(detail: impl std::fmt::Display) -> Self {
        let mut reason = format!("invalid body: {detail}");
        if reason.len() > MAX_REASON {
            let mut end = MAX_REASON - '…'.len_utf8();
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
            reason.push('…');
        }
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: Cow::Owned(reason),
            json: None,
        }
    }

    #[cfg(any(test, feature = "tracing"))]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason without anything taken from the request: the fixed reason, or only
    /// "invalid body" for a body whose parser's message may quote the body.
    #[cfg(feature = "tracing")]
    pub(crate) fn fixed_reason(&self) -> &'static str {
        match self.reason {
            Cow::Borrowed(reason) => reason,
            Cow::Owned(_) => "invalid body",
        }
    }

    /// The reason, as `ErrorInfo` says it.
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    /// The answer to send: the status, and the JSON of the `FAIL` acknowledgement with the
    /// status as `ErrorCode` and the reason as `ErrorInfo` (static, for a fixed reason).
    pub(crate) fn into_answer(self) -> (StatusCode, Bytes) {
        let json = match self.json {
            Some(json) => Bytes::from_static(json.as_bytes()),
            None => self.ack().to_bytes(),
        };
        (self.status, json)
    }

    fn ack(&self) -> Ack {
        Ack::fail_with_code(i64::from(self.status.as_u16()), self.reason.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_detail_is_cut_on_a_character_boundary() {
        let detail = format!("invalid type: string \"{}\"", "é".repeat(10_000));
        let rejection = Rejection::invalid_body(detail);
        assert!(rejection.reason().len() <= MAX_REASON);
        assert!(rejection.reason().starts_with("invalid body: invalid type"));
        assert!(rejection.reason().ends_with('…'));

        let short = Rejection::invalid_body("missing field `GroupId`");
        assert_eq!(short.reason(), "invalid body: missing field `GroupId`");
    }

    /// Every refusal with a fixed reason.
    const FIXED: &[Rejection] = &[
        Rejection::METHOD,
        Rejection::APP_MISSING,
        Rejection::APP_REPEATED,
        Rejection::APP_MALFORMED,
        Rejection::APP_NOT_ALLOWED,
        Rejection::SIGN_MISSING,
        Rejection::SIGN_REPEATED,
        Rejection::SIGN_MALFORMED,
        Rejection::SIGN_MISMATCH,
        Rejection::TIME_MISSING,
        Rejection::TIME_REPEATED,
        Rejection::TIME_MALFORMED,
        Rejection::TIME_TOO_OLD,
        Rejection::TIME_AHEAD,
        Rejection::TOO_LARGE,
        Rejection::COMMAND_REPEATED,
        Rejection::CONTENT_TYPE,
        Rejection::CONTENT_TYPE_REPEATED,
        Rejection::BODY_UNREADABLE,
        Rejection::NOT_AN_OBJECT,
        Rejection::NOT_UTF8,
        Rejection::TOO_DEEP,
        Rejection::COMMAND_MISMATCH,
        Rejection::TOO_MANY_MESSAGES,
    ];

    #[test]
    fn fixed_answers_are_what_serde_json_writes() {
        for rejection in FIXED {
            let (status, json) = rejection.clone().into_answer();
            assert_eq!(status, rejection.status);
            assert_eq!(json, rejection.ack().to_bytes(), "{rejection:?}");
        }
        let (_, json) = Rejection::invalid_body("a \"quoted\" detail").into_answer();
        let ack: Ack = serde_json::from_slice(&json).unwrap();
        assert_eq!(ack.error_info(), "invalid body: a \"quoted\" detail");
    }
}
