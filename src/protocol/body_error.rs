//! [`BodyError`]: why a body is not a recall event of its kind.

use std::error::Error;
use std::fmt;

use super::rejection::Rejection;

/// Why a callback body is not a recall event of its kind: not one JSON object, not UTF-8,
/// nested too deep, a required field missing or of the wrong type, a field given twice, or a
/// `CallbackCommand` that is not the kind's.
///
/// The layer answers it with 400 and [`reason`](Self::reason) as `ErrorInfo`;
/// [`RecallEvent::parse`](crate::RecallEvent::parse) returns it to a consumer that reads
/// bodies from elsewhere (a queue, another transport), so both refuse the same bodies with the
/// same words.
///
/// ```
/// use tower_tim_recall::{BodyErrorKind, CallbackContext, RecallEvent, RecallKind};
///
/// let refused = RecallEvent::parse(RecallKind::Group, b"[]", CallbackContext::new(1400000000));
/// let error = refused.unwrap_err();
/// assert_eq!(error.kind(), BodyErrorKind::NotAnObject);
/// assert_eq!(error.reason(), "body is not a JSON object");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError(Rejection);

/// What kind of [`BodyError`] it is, to match on; [`BodyError::reason`] says it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyErrorKind {
    /// The body is not one JSON object.
    NotAnObject,
    /// The body is not UTF-8.
    NotUtf8,
    /// The body nests deeper than 127 levels.
    TooDeep,
    /// The body's `CallbackCommand` is another kind's.
    CommandMismatch,
    /// A required field is missing or of the wrong type, or a field is given twice.
    InvalidFields,
}

impl BodyError {
    pub(crate) fn new(rejection: Rejection) -> Self {
        Self(rejection)
    }

    pub(crate) fn into_rejection(self) -> Rejection {
        self.0
    }

    /// What kind of error it is.
    pub fn kind(&self) -> BodyErrorKind {
        match &self.0 {
            rejection if *rejection == Rejection::NOT_AN_OBJECT => BodyErrorKind::NotAnObject,
            rejection if *rejection == Rejection::NOT_UTF8 => BodyErrorKind::NotUtf8,
            rejection if *rejection == Rejection::TOO_DEEP => BodyErrorKind::TooDeep,
            rejection if *rejection == Rejection::COMMAND_MISMATCH => {
                BodyErrorKind::CommandMismatch
            }
            _ => BodyErrorKind::InvalidFields,
        }
    }

    /// The reason, as the layer's `FAIL` acknowledgement says it: a fixed text, or
    /// `invalid body: ` and what the JSON parser found (at most 160 bytes).
    pub fn reason(&self) -> &str {
        self.0.reason()
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl Error for BodyError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::context::CallbackContext;
    use crate::protocol::event::RecallEvent;
    use crate::protocol::recall_kind::RecallKind;

    #[test]
    fn each_kind_is_told_apart() {
        let kind = |body: &[u8]| {
            RecallEvent::parse(RecallKind::Group, body, CallbackContext::new(1))
                .unwrap_err()
                .kind()
        };
        assert_eq!(kind(b"[]"), BodyErrorKind::NotAnObject);
        assert_eq!(kind(b"{\"GroupId\":\"\xff\"}"), BodyErrorKind::NotUtf8);
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(kind(deep.as_bytes()), BodyErrorKind::TooDeep);
        assert_eq!(
            kind(br#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","MsgKey":"k"}"#),
            BodyErrorKind::CommandMismatch
        );
        assert_eq!(kind(br#"{"GroupId":"g"}"#), BodyErrorKind::InvalidFields);
        assert_eq!(
            kind(br#"{"GroupId":"g","GroupId":"h","MsgSeqList":[]}"#),
            BodyErrorKind::InvalidFields
        );
    }
}
