//! `recall_fields!`: a recall kind's fields, declared once for both of its serde forms.
//!
//! Each kind has two: the public event (the queued form, with the query context flattened in)
//! and the private `Body` that Tencent sends (with its `CallbackCommand`, without the context).
//! Both are written from the one list of fields given here, names, types and serde attributes
//! alike, so that a field cannot exist in one form only.

/// Declares `$name`, the public event of a recall kind, and `Body`, the body Tencent sends for
/// it, from one list of fields; `Body` reads into `$name` with the URL's context, and writes
/// itself from one (for `testing`). The calling module imports `BodyCommand`, `KindBody`,
/// `RecallKind` and `CallbackContext`.
macro_rules! recall_fields {
    (
        kind: $kind:expr;
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The query context: the app, and where and when.
            #[serde(flatten)]
            pub context: CallbackContext,
            $(
                $(#[$field_meta])*
                pub $field: $ty,
            )*
        }

        /// The body as Tencent writes it: the event's fields, and its `CallbackCommand`.
        /// `SdkAppid`, `ClientIP` and the other query parameters are unknown fields here: the
        /// context comes from the URL only.
        #[derive(Serialize, Deserialize)]
        pub(crate) struct Body<'a> {
            #[serde(rename = "CallbackCommand", borrow, default)]
            command: Option<BodyCommand<'a>>,
            $(
                $(#[$field_meta])*
                $field: $ty,
            )*
        }

        impl KindBody for Body<'_> {
            const KIND: RecallKind = $kind;

            fn command(&self) -> Option<&str> {
                self.command.as_ref().map(|command| &*command.0)
            }
        }

        impl Body<'_> {
            pub(crate) fn into_event(self, context: CallbackContext) -> $name {
                $name {
                    context,
                    $($field: self.$field,)*
                }
            }

            /// The body Tencent sends for `recall`, with `command` as its `CallbackCommand`.
            #[cfg(any(test, feature = "testing"))]
            #[allow(clippy::clone_on_copy)]
            pub(crate) fn of<'a>(recall: &$name, command: &'a str) -> Body<'a> {
                Body {
                    command: Some(BodyCommand(command.into())),
                    $($field: recall.$field.clone(),)*
                }
            }
        }
    };
}
