//! [`VerifiedCallback`]: another callback command, held by the guard to the app and signature
//! checks.

use crate::protocol::context::CallbackContext;

/// A callback command other than the recalls the layer takes, after the guard checked it: its
/// app is on the allowlist and, for a signed app, its `Sign` and `RequestTime` are valid.
///
/// With [`guard_other_commands`](crate::RecallLayerBuilder::guard_other_commands), the layer
/// puts one in the request extensions of every such request it passes on, body untouched: the
/// inner service reads the command and the verified context from it. A recall carries a
/// [`RecallEvent`](crate::RecallEvent) instead, with the same context
/// ([`RecallEvent::context`](crate::RecallEvent::context)), not a `VerifiedCallback`. With the
/// `axum` feature, a handler takes it as an argument, and there one is made from the event for
/// a recall, so that a handler of every verified callback needs one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedCallback {
    /// `CallbackCommand`, as the query spells it (decoded): `State.StateChange`,
    /// `Group.CallbackAfterSendMsg`… The first one, when the query repeats it.
    pub command: String,
    /// The query context: the verified app, and where and when.
    pub context: CallbackContext,
}

impl VerifiedCallback {
    /// A verified callback with this command and context: for tests of a service behind the
    /// layer.
    #[must_use]
    pub fn new(command: impl Into<String>, context: CallbackContext) -> Self {
        Self {
            command: command.into(),
            context,
        }
    }
}
