//! [`HandlerError`]: how an acknowledge-mode handler names the reason of the layer's 500 answer.

use std::error::Error;
use std::fmt;

/// An error an acknowledge-mode handler returns to name the reason the layer's `500` `FAIL`
/// acknowledgement gives, in place of "the recall handler failed".
///
/// Return it as the handler's error, or as the [`source`](Error::source) of the handler's own
/// error type: the layer looks for it along the error's source chain. The reason is a
/// `&'static str`, written in the source code, so that no run-time data (a token, a body, a
/// password in a URL) can reach the answer through it.
///
/// ```
/// use tower::{service_fn, ServiceExt};
/// use tower_tim_recall::{AcceptedRecall, HandlerError, RecallLayer};
///
/// // A handler whose store is down: Tencent's console log shows the reason.
/// let handler = service_fn(|_: AcceptedRecall| async {
///     Err::<(), _>(HandlerError::new("recall store unavailable"))
/// });
/// let layer = RecallLayer::new([1400000000], ["the console's callback token"])?.acknowledge(handler);
/// # let _ = layer;
/// # Ok::<(), tower_tim_recall::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerError {
    reason: &'static str,
}

impl HandlerError {
    /// An error whose `reason` the layer's answer gives as its `ErrorInfo`.
    #[must_use]
    pub const fn new(reason: &'static str) -> Self {
        Self { reason }
    }

    /// The reason the answer gives.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }

    /// The first `HandlerError` along `error`'s source chain, `error` itself included.
    pub(crate) fn find<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a Self> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<Self>() {
                return Some(found);
            }
            current = error.source();
        }
        None
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl Error for HandlerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(HandlerError);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the store said no")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn it_is_found_on_the_error_or_along_its_source_chain() {
        let named = HandlerError::new("recall store unavailable");
        assert_eq!(HandlerError::find(&named), Some(&named));
        assert_eq!(HandlerError::find(&Wrapper(named)), Some(&named));
        let other = std::io::Error::other("disk full");
        assert_eq!(HandlerError::find(&other), None);
        assert_eq!(named.to_string(), "recall store unavailable");
    }
}
