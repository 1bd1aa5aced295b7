//! Why the layer refused a callback, and the status it answers with.

use std::borrow::Cow;

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
}

/// The longest `ErrorInfo` the layer writes, in bytes.
const MAX_REASON: usize = 160;

impl Rejection {
    const fn fixed(status: StatusCode, reason: &'static str) -> Self {
        Self {
            status,
            reason: Cow::Borrowed(reason),
        }
    }

    /// The recall command came with another method than `POST`.
    pub(crate) const METHOD: Self = Self::fixed(
        StatusCode::METHOD_NOT_ALLOWED,
        "callbacks must be sent with POST",
    );

    pub(crate) const APP_MISSING: Self = Self::fixed(StatusCode::FORBIDDEN, "SdkAppid is missing");
    pub(crate) const APP_REPEATED: Self =
        Self::fixed(StatusCode::FORBIDDEN, "SdkAppid is repeated");
    pub(crate) const APP_MALFORMED: Self =
        Self::fixed(StatusCode::FORBIDDEN, "SdkAppid is not a decimal integer");
    pub(crate) const APP_NOT_ALLOWED: Self =
        Self::fixed(StatusCode::FORBIDDEN, "SdkAppid is not allowed");

    pub(crate) const SIGN_MISSING: Self = Self::fixed(StatusCode::UNAUTHORIZED, "Sign is missing");
    pub(crate) const SIGN_REPEATED: Self =
        Self::fixed(StatusCode::UNAUTHORIZED, "Sign is repeated");
    pub(crate) const SIGN_MALFORMED: Self = Self::fixed(
        StatusCode::UNAUTHORIZED,
        "Sign is not 64 hexadecimal digits",
    );
    pub(crate) const SIGN_MISMATCH: Self =
        Self::fixed(StatusCode::UNAUTHORIZED, "Sign does not match");
    pub(crate) const TIME_MISSING: Self =
        Self::fixed(StatusCode::UNAUTHORIZED, "RequestTime is missing");
    pub(crate) const TIME_REPEATED: Self =
        Self::fixed(StatusCode::UNAUTHORIZED, "RequestTime is repeated");
    pub(crate) const TIME_MALFORMED: Self = Self::fixed(
        StatusCode::UNAUTHORIZED,
        "RequestTime is not a decimal number of seconds",
    );
    pub(crate) const TIME_STALE: Self = Self::fixed(
        StatusCode::UNAUTHORIZED,
        "RequestTime is outside the allowed time window",
    );

    pub(crate) const TOO_LARGE: Self = Self::fixed(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body is larger than the limit",
    );

    pub(crate) const COMMAND_REPEATED: Self =
        Self::fixed(StatusCode::BAD_REQUEST, "CallbackCommand is repeated");
    pub(crate) const CONTENT_TYPE: Self =
        Self::fixed(StatusCode::BAD_REQUEST, "contenttype is not json");
    pub(crate) const BODY_UNREADABLE: Self =
        Self::fixed(StatusCode::BAD_REQUEST, "body could not be read");
    pub(crate) const NOT_AN_OBJECT: Self =
        Self::fixed(StatusCode::BAD_REQUEST, "body is not a JSON object");
    pub(crate) const NOT_UTF8: Self = Self::fixed(StatusCode::BAD_REQUEST, "body is not UTF-8");
    pub(crate) const TOO_DEEP: Self =
        Self::fixed(StatusCode::BAD_REQUEST, "body is nested too deep");

    /// The handler given to acknowledge mode returned an error.
    pub(crate) const HANDLER_FAILED: Self = Self::fixed(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the recall handler failed",
    );

    /// The handler given to acknowledge mode panicked.
    pub(crate) const HANDLER_PANICKED: Self = Self::fixed(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the recall handler panicked",
    );

    /// The body is not a recall event; `detail` says which field is wrong. Kept short: a
    /// parser's message may quote a long value from the body.
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

    #[cfg(test)]
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    /// The answer to send: the status, and the `FAIL` acknowledgement with the status as
    /// `ErrorCode` and the reason as `ErrorInfo` (borrowed, for a fixed reason).
    pub(crate) fn into_answer(self) -> (StatusCode, Ack) {
        let code = i64::from(self.status.as_u16());
        (self.status, Ack::fail_with_code(code, self.reason))
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
}
