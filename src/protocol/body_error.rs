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
/// use tower_tim_recall::{CallbackContext, RecallEvent, RecallKind};
///
/// let refused = RecallEvent::parse(RecallKind::Group, b"[]", CallbackContext::new(1400000000));
/// assert_eq!(refused.unwrap_err().reason(), "body is not a JSON object");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError(Rejection);

impl BodyError {
    pub(crate) fn new(rejection: Rejection) -> Self {
        Self(rejection)
    }

    pub(crate) fn into_rejection(self) -> Rejection {
        self.0
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
