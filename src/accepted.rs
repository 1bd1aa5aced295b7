//! [`AcceptedRecall`]: what an acknowledge-mode handler gets.

use bytes::Bytes;

use crate::protocol::event::RecallEvent;

/// A recall callback the layer accepted, as an acknowledge-mode handler gets it: the typed
/// event, and the body exactly as Tencent sent it (the bytes the layer read and parsed, not a
/// copy), for fields this crate does not model yet.
///
/// ```
/// use bytes::Bytes;
/// use tower_tim_recall::{AcceptedRecall, GroupRecall, RecalledMessage};
///
/// let event = GroupRecall::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
/// let accepted = AcceptedRecall::new(event.into(), Bytes::from_static(b"{\"GroupId\":\"@TGS#2J4SZEAEL\"}"));
/// assert_eq!(accepted.event.kind().command(), "Group.CallbackAfterRecallMsg");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedRecall {
    /// The event the body reports, with the callback's query context.
    pub event: RecallEvent,
    /// The body as Tencent sent it: UTF-8 JSON that nests at most 127 levels.
    pub body: Bytes,
}

impl AcceptedRecall {
    /// An accepted recall with this event and body: for tests of a handler.
    #[must_use]
    pub fn new(event: RecallEvent, body: Bytes) -> Self {
        Self { event, body }
    }
}
