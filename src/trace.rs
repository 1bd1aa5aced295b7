//! The `tracing` feature: one span per recall callback, and one event for the layer's decision.
//!
//! What is recorded, at which level and why is documented for users in the crate docs
//! (section "Tracing"). The service and its future hold a [`CallbackSpan`] and call its methods
//! whether or not the feature is on: without it, the span is an empty type whose methods do
//! nothing, and no code is added.

pub(crate) use span::CallbackSpan;

#[cfg(feature = "tracing")]
mod span {
    use tracing::field::Empty;
    use tracing::Span;

    use crate::protocol::event::RecallEvent;
    use crate::protocol::query::{CallbackQuery, Scanned};
    use crate::protocol::rejection::Rejection;

    /// The span of one callback the layer acts on.
    pub(crate) struct CallbackSpan(Span);

    impl CallbackSpan {
        /// The span of the callback whose query this is, a child of the current span:
        /// `recall_callback` for a recall, `guarded_callback` for another command.
        pub(crate) fn new(scanned: &Scanned<'_>) -> Self {
            let (span, query): (Span, &CallbackQuery<'_>) = match scanned {
                Scanned::Recall(kind, query) => {
                    let span = tracing::info_span!(
                        "recall_callback",
                        CallbackCommand = kind.command(),
                        SdkAppid = Empty,
                        GroupId = Empty,
                        messages = Empty,
                        decision = Empty,
                        status = Empty,
                    );
                    (span, query)
                }
                Scanned::Other(query) => {
                    // The command is recorded once verified: before, it is any stranger's text.
                    let span = tracing::info_span!(
                        "guarded_callback",
                        CallbackCommand = Empty,
                        SdkAppid = Empty,
                        decision = Empty,
                        status = Empty,
                    );
                    (span, query)
                }
            };
            if !span.is_disabled() {
                if let Ok(app) = query.sdk_app_id() {
                    span.record("SdkAppid", app.get());
                }
            }
            Self(span)
        }

        /// The body is parsed: what it is about.
        pub(crate) fn parsed(&self, event: &RecallEvent) {
            let messages = match event {
                RecallEvent::Group(recall) => {
                    self.0.record("GroupId", recall.group_id.as_str());
                    recall.messages.len()
                }
                RecallEvent::OneToOne(_) => 1,
                RecallEvent::OfficialAccount(recall) => recall.messages.len(),
            };
            self.0.record("messages", messages);
        }

        /// Another command passed the guard, and goes on to the inner service.
        pub(crate) fn passed(&self, command: &str) {
            self.0.record("CallbackCommand", command);
            self.0.record("decision", "passed");
            tracing::info!(parent: &self.0, "guarded callback passed");
        }

        /// The event went on to the inner service, which answers.
        pub(crate) fn forwarded(&self) {
            self.0.record("decision", "forwarded");
            tracing::info!(parent: &self.0, "recall callback forwarded");
        }

        /// The handler took the event, and the layer answered `OK`.
        pub(crate) fn acknowledged(&self) {
            self.0.record("decision", "acknowledged");
            self.0.record("status", 200);
            tracing::info!(parent: &self.0, "recall callback acknowledged");
        }

        /// The layer refused the callback with a `FAIL`.
        pub(crate) fn refused(&self, rejection: &Rejection) {
            let status = rejection.status().as_u16();
            let reason = rejection.fixed_reason();
            self.0.record("status", status);
            self.0.record("decision", "refused");
            tracing::warn!(parent: &self.0, status, reason, "callback refused");
        }

        /// The handler failed, and the layer answered 500 with a `FAIL`.
        pub(crate) fn failed(&self, reason: &'static str) {
            self.0.record("status", 500);
            self.0.record("decision", "failed");
            tracing::error!(parent: &self.0, status = 500, reason, "recall callback failed");
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod span {
    use crate::protocol::event::RecallEvent;
    use crate::protocol::query::Scanned;
    use crate::protocol::rejection::Rejection;

    /// Nothing: the `tracing` feature is off.
    pub(crate) struct CallbackSpan;

    impl CallbackSpan {
        #[inline(always)]
        pub(crate) fn new(_scanned: &Scanned<'_>) -> Self {
            CallbackSpan
        }

        #[inline(always)]
        pub(crate) fn parsed(&self, _event: &RecallEvent) {}

        #[inline(always)]
        pub(crate) fn passed(&self, _command: &str) {}

        #[inline(always)]
        pub(crate) fn forwarded(&self) {}

        #[inline(always)]
        pub(crate) fn acknowledged(&self) {}

        #[inline(always)]
        pub(crate) fn refused(&self, _rejection: &Rejection) {}

        #[inline(always)]
        pub(crate) fn failed(&self, _reason: &'static str) {}
    }
}
