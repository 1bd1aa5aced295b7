//! The `tracing` feature: one span per recall callback, and one event for the layer's decision.
//!
//! What is recorded, at which level and why is documented for users in the crate docs
//! (section "Tracing"); the hooks in the service and its future call the functions here, and
//! compile to nothing without the feature.

use tracing::field::Empty;
use tracing::Span;

use crate::protocol::event::RecallEvent;
use crate::protocol::query::CallbackQuery;
use crate::protocol::rejection::Rejection;

/// The span of the callback whose query this is.
pub(crate) fn callback_span(query: &CallbackQuery<'_>) -> Span {
    let span = tracing::info_span!(
        "recall_callback",
        SdkAppid = Empty,
        GroupId = Empty,
        messages = Empty,
        decision = Empty,
        status = Empty,
    );
    if !span.is_disabled() {
        if let Ok(app) = query.sdk_app_id() {
            span.record("SdkAppid", app.get());
        }
    }
    span
}

/// The body is parsed: what it is about.
pub(crate) fn parsed(span: &Span, event: &RecallEvent) {
    span.record("GroupId", event.group_id.as_str());
    span.record("messages", event.messages.len());
}

/// The event went on to the inner service, which answers.
pub(crate) fn forwarded(span: &Span) {
    span.record("decision", "forwarded");
    tracing::info!(parent: span, "recall callback forwarded");
}

/// The handler took the event, and the layer answered `OK`.
pub(crate) fn acknowledged(span: &Span) {
    span.record("decision", "acknowledged");
    span.record("status", 200);
    tracing::info!(parent: span, "recall callback acknowledged");
}

/// The layer answered `FAIL`.
pub(crate) fn refused(span: &Span, rejection: &Rejection) {
    let status = rejection.status().as_u16();
    let reason = rejection.fixed_reason();
    span.record("status", status);
    if rejection.status().is_server_error() {
        span.record("decision", "failed");
        tracing::error!(parent: span, status, reason, "recall callback failed");
    } else {
        span.record("decision", "refused");
        tracing::warn!(parent: span, status, reason, "recall callback refused");
    }
}

#[cfg(test)]
mod tests;
