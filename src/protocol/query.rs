//! The callback URL's query string: which callback this is, for which app, signed how.
//!
//! Tencent sends every callback command of an app to the same URL and tells them apart by the
//! `CallbackCommand` query parameter. Parameters are found by name (case-sensitive, as Tencent
//! spells them), after percent-decoding, in one pass over the query that borrows from it: names
//! are compared as they decode, without a buffer, and only the values of a callback the layer
//! acts on are decoded, allocating only when they contain an escape.

use std::borrow::Cow;

use super::app::SdkAppId;
use super::context::CallbackContext;
use super::digits::decimal;
use super::platform::Platform;
use super::recall_kind::{RecallKind, RecallKinds};
use super::rejection::Rejection;
use super::urlencoded::{decode, decodes_to, escapes, pairs};

/// The name of the `CallbackCommand` query parameter, which every callback carries.
pub(crate) const COMMAND_PARAMETER: &str = "CallbackCommand";

/// One query parameter that may appear at most once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Param<'a> {
    #[default]
    Absent,
    Once(Cow<'a, str>),
    Repeated,
}

impl<'a> Param<'a> {
    /// Records a raw (still encoded) value.
    fn push(&mut self, raw: &'a str) {
        *self = match self {
            Param::Absent => Param::Once(Cow::Borrowed(raw)),
            Param::Once(_) | Param::Repeated => Param::Repeated,
        };
    }

    /// Decodes the raw value recorded by `push`.
    fn decode(&mut self) {
        if let Param::Once(Cow::Borrowed(raw)) = self {
            *self = Param::Once(decode(raw));
        }
    }

    fn once(&self) -> Option<&str> {
        match self {
            Param::Once(value) => Some(value),
            Param::Absent | Param::Repeated => None,
        }
    }

    /// The single value; `missing` when absent, `repeated` when given more than once.
    fn require(&self, missing: Rejection, repeated: Rejection) -> Result<&str, Rejection> {
        match self {
            Param::Absent => Err(missing),
            Param::Once(value) => Ok(value),
            Param::Repeated => Err(repeated),
        }
    }
}

/// What a request's query says it is, when it says it is a callback the layer acts on.
pub(crate) enum Scanned<'a> {
    /// A recall callback of a kind the layer takes.
    Recall(RecallKind, CallbackQuery<'a>),
    /// Another callback command, with the guard on: held to the app and signature rows.
    Other(CallbackQuery<'a>),
}

/// The query of a callback: the parameters the layer reads, each at most once.
#[derive(Debug, Default)]
pub(crate) struct CallbackQuery<'a> {
    /// How many `CallbackCommand` parameters there are.
    commands: usize,
    /// The first `CallbackCommand`'s value.
    command: Cow<'a, str>,
    sdk_app_id: Param<'a>,
    sign: Param<'a>,
    request_time: Param<'a>,
    client_ip: Param<'a>,
    platform: Param<'a>,
    content_type: Param<'a>,
}

impl<'a> CallbackQuery<'a> {
    /// Reads a request's query: a recall callback of one of the `recalls` kinds, or, with the
    /// `guard` on, any other callback command. `None` for every other request, which the layer
    /// passes on untouched: one without a `CallbackCommand`, and, with the guard off, one whose
    /// command is not a recall it takes.
    pub(crate) fn scan(
        query: Option<&'a str>,
        recalls: RecallKinds,
        guard: bool,
    ) -> Option<Scanned<'a>> {
        let query = query?;
        // Only a percent-escape can turn other text into a parameter's name or value: without
        // one, what the layer looks for is spelled out, and most requests are told apart by
        // two searches.
        let (percent, plus) = escapes(query);
        if !percent && !spelled_out(query, recalls, guard) {
            return None;
        }
        // Most queries have nothing to decode: their names and values are used as they are.
        let plain = !percent && !plus;
        let mut scanned = Self::default();
        let mut kind = None;
        for (name, value) in pairs(query) {
            let name = if plain { Some(name) } else { known_name(name) };
            let slot = match name {
                Some(COMMAND_PARAMETER) => {
                    if scanned.commands == 0 {
                        scanned.command = Cow::Borrowed(value);
                    }
                    scanned.commands += 1;
                    // A plain query was checked for escapes once, as a whole.
                    kind = kind.or_else(|| {
                        recalls.iter().find(|kind| match plain {
                            true => value == kind.command(),
                            false => decodes_to(value, kind.command()),
                        })
                    });
                    continue;
                }
                Some("SdkAppid") => &mut scanned.sdk_app_id,
                Some("Sign") => &mut scanned.sign,
                Some("RequestTime") => &mut scanned.request_time,
                Some("ClientIP") => &mut scanned.client_ip,
                Some("OptPlatform") => &mut scanned.platform,
                Some("contenttype") => &mut scanned.content_type,
                _ => continue,
            };
            slot.push(value);
        }
        let is_other = kind.is_none();
        if is_other && !(guard && scanned.commands > 0) {
            return None;
        }
        if !plain {
            // Values are decoded only now, so that other requests never allocate.
            if let Cow::Borrowed(raw) = scanned.command {
                scanned.command = decode(raw);
            }
            for param in [
                &mut scanned.sdk_app_id,
                &mut scanned.sign,
                &mut scanned.request_time,
                &mut scanned.client_ip,
                &mut scanned.platform,
                &mut scanned.content_type,
            ] {
                param.decode();
            }
        }
        Some(match kind {
            Some(kind) => Scanned::Recall(kind, scanned),
            None => Scanned::Other(scanned),
        })
    }

    /// The first `CallbackCommand`'s value, decoded.
    pub(crate) fn command(&self) -> &str {
        &self.command
    }

    /// `CallbackCommand` must be given once: a second value could route the request elsewhere
    /// in a service behind the layer.
    pub(crate) fn check_command(&self) -> Result<(), Rejection> {
        if self.commands > 1 {
            Err(Rejection::COMMAND_REPEATED)
        } else {
            Ok(())
        }
    }

    /// `SdkAppid`, given once, as a decimal integer.
    pub(crate) fn sdk_app_id(&self) -> Result<SdkAppId, Rejection> {
        let text = self
            .sdk_app_id
            .require(Rejection::APP_MISSING, Rejection::APP_REPEATED)?;
        decimal(text)
            .map(SdkAppId::new)
            .ok_or(Rejection::APP_MALFORMED)
    }

    /// `RequestTime` and `Sign`, each given once, as text (the signature covers the text).
    pub(crate) fn signature(&self) -> Result<(&str, &str), Rejection> {
        let time = self
            .request_time
            .require(Rejection::TIME_MISSING, Rejection::TIME_REPEATED)?;
        let sign = self
            .sign
            .require(Rejection::SIGN_MISSING, Rejection::SIGN_REPEATED)?;
        Ok((time, sign))
    }

    /// `contenttype`, when given, must be `json` in any case, once.
    pub(crate) fn check_content_type(&self) -> Result<(), Rejection> {
        match &self.content_type {
            Param::Absent => Ok(()),
            Param::Once(value) if value.eq_ignore_ascii_case("json") => Ok(()),
            Param::Once(_) => Err(Rejection::CONTENT_TYPE),
            Param::Repeated => Err(Rejection::CONTENT_TYPE_REPEATED),
        }
    }

    /// The informational parameters, kept for the event. `ClientIP` that is not an IP address
    /// and repeated informational parameters are left out rather than refused: Tencent's docs
    /// call them optional, and no check depends on them.
    pub(crate) fn context(
        &self,
        sdk_app_id: SdkAppId,
        request_time: Option<u64>,
    ) -> CallbackContext {
        CallbackContext {
            sdk_app_id,
            client_ip: self.client_ip.once().and_then(|ip| ip.parse().ok()),
            platform: self.platform.once().map(Platform::from),
            request_time,
        }
    }
}

/// For a query without escapes, whether it can be a callback the layer acts on: with the guard
/// on, one that names `CallbackCommand`; with it off, one that holds the end of a recall
/// command the layer takes. A quick filter, never wrong when it says no: the two ends below
/// cover the three commands, and `str::contains` is a vectorised search with no set-up, where
/// walking the pairs or building a searcher of every match (`match_indices`) costs more than
/// the search (instruction counts in BENCHMARKS.md).
fn spelled_out(query: &str, recalls: RecallKinds, guard: bool) -> bool {
    if guard {
        return query.contains(COMMAND_PARAMETER);
    }
    // `Group.CallbackAfterRecallMsg`; `C2C.` and `OfficialAccount.CallbackAfterMsgWithDraw`.
    let group = recalls.contains(RecallKind::Group) && query.contains("AfterRecallMsg");
    group
        || ((recalls.contains(RecallKind::OneToOne)
            || recalls.contains(RecallKind::OfficialAccount))
            && query.contains("AfterMsgWithDraw"))
}

/// The parameter names the scan looks for.
const NAMES: [&str; 7] = [
    COMMAND_PARAMETER,
    "SdkAppid",
    "Sign",
    "RequestTime",
    "ClientIP",
    "OptPlatform",
    "contenttype",
];

/// Which of [`NAMES`] a raw (still encoded) parameter name is, if any.
fn known_name(raw: &str) -> Option<&'static str> {
    NAMES.into_iter().find(|known| decodes_to(raw, known))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECALL_COMMAND: &str = "Group.CallbackAfterRecallMsg";

    /// The query of a recall callback of any kind, with the guard off.
    fn recall(query: &str) -> Option<CallbackQuery<'_>> {
        match CallbackQuery::scan(Some(query), RecallKinds::ALL, false)? {
            Scanned::Recall(_, query) => Some(query),
            Scanned::Other(_) => panic!("another command with the guard off: {query}"),
        }
    }

    /// The kind of the recall callback, with the guard off and `recalls` taken.
    fn kind_of(query: &str, recalls: RecallKinds) -> Option<RecallKind> {
        match CallbackQuery::scan(Some(query), recalls, false)? {
            Scanned::Recall(kind, _) => Some(kind),
            Scanned::Other(_) => panic!("another command with the guard off: {query}"),
        }
    }

    /// What the scan says with the guard on: the recall's kind, or `None` for another command.
    fn guarded(query: &str) -> Option<Option<RecallKind>> {
        Some(
            match CallbackQuery::scan(Some(query), RecallKinds::ALL, true)? {
                Scanned::Recall(kind, _) => Some(kind),
                Scanned::Other(_) => None,
            },
        )
    }

    const TYPICAL: &str = "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg\
                           &contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI";

    #[test]
    fn recognises_the_recall_command_by_name_not_position() {
        let query = recall(TYPICAL).expect("ours");
        assert_eq!(query.sdk_app_id(), Ok(SdkAppId::new(1_400_000_000)));
        assert_eq!(query.check_command(), Ok(()));
        assert_eq!(query.check_content_type(), Ok(()));
        let context = query.context(SdkAppId::new(1_400_000_000), None);
        assert_eq!(context.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(context.platform, Some(Platform::RestApi));

        let reordered = "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=7";
        let query = recall(reordered).expect("ours");
        assert_eq!(query.sdk_app_id(), Ok(SdkAppId::new(7)));
    }

    #[test]
    fn other_commands_and_no_query_are_not_ours() {
        assert!(CallbackQuery::scan(None, RecallKinds::ALL, true).is_none());
        assert!(recall("").is_none());
        assert!(recall("SdkAppid=1").is_none());
        assert!(recall("SdkAppid=1&CallbackCommand=Group.CallbackAfterSendMsg").is_none());
        // Names and values are case-sensitive, as Tencent spells them.
        assert!(recall("callbackcommand=Group.CallbackAfterRecallMsg").is_none());
        assert!(recall("CallbackCommand=group.callbackafterrecallmsg").is_none());
    }

    #[test]
    fn values_and_names_are_percent_decoded() {
        let query = recall("%43allbackCommand=Group%2ECallbackAfterRecallMsg&SdkApp%69d=%31%32")
            .expect("ours");
        assert_eq!(query.sdk_app_id(), Ok(SdkAppId::new(12)));
    }

    #[test]
    fn the_quick_refusal_still_sees_escaped_and_plus_forms() {
        // Escaped in the value only, in the name only, or both.
        for query in [
            "CallbackCommand=Group%2ECallbackAfterRecallMsg",
            "Callback%43ommand=Group.CallbackAfterRecallMsg",
            "%43allbackCommand=%47roup.CallbackAfterRecallMsg",
        ] {
            assert!(recall(query).is_some(), "{query}");
        }
        // `+` decodes to a space, which the command does not contain.
        assert!(recall("CallbackCommand=Group.CallbackAfter+RecallMsg").is_none());
        // The command text elsewhere is not enough.
        assert!(recall("x=Group.CallbackAfterRecallMsg").is_none());
    }

    #[test]
    fn decoding_matches_form_urlencoded() {
        for raw in [
            "plain",
            "a+b",
            "%41%62%2B",
            "%4",
            "%",
            "%zz%41",
            "100%25",
            "%E6%B5%8B",
            "%FF%FE",
            "%E6%B5",
            "",
        ] {
            let pair = format!("x={raw}");
            let (_, expected) = form_urlencoded::parse(pair.as_bytes()).next().unwrap();
            assert_eq!(decode(raw), expected, "{raw:?}");
            // Names are compared byte for byte: bytes that are not UTF-8 match no name.
            assert_eq!(
                decodes_to(raw, &expected),
                !expected.contains('\u{FFFD}'),
                "{raw:?}"
            );
            assert!(!decodes_to(raw, &format!("{expected}x")), "{raw:?}");
        }
        assert!(matches!(decode("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn other_requests_with_escapes_are_not_decoded() {
        let query = "CallbackCommand=Group.CallbackAfterSendMsg&ClientIP=%3A%3A1&q=100%25";
        assert!(recall(query).is_none());
    }

    #[test]
    fn a_repeated_command_is_refused() {
        let query = recall(
            "CallbackCommand=Group.CallbackAfterSendMsg&CallbackCommand=Group.CallbackAfterRecallMsg",
        )
        .expect("ours");
        assert_eq!(query.check_command(), Err(Rejection::COMMAND_REPEATED));
    }

    #[test]
    fn sdk_app_id_must_be_one_decimal_integer() {
        let app = |q: &str| {
            recall(&format!("CallbackCommand={RECALL_COMMAND}&{q}"))
                .unwrap()
                .sdk_app_id()
        };
        assert_eq!(app("x=1"), Err(Rejection::APP_MISSING));
        assert_eq!(app("SdkAppid=1&SdkAppid=1"), Err(Rejection::APP_REPEATED));
        assert_eq!(app("SdkAppid="), Err(Rejection::APP_MALFORMED));
        assert_eq!(app("SdkAppid"), Err(Rejection::APP_MALFORMED));
        assert_eq!(app("SdkAppid=+1"), Err(Rejection::APP_MALFORMED));
        assert_eq!(app("SdkAppid=-1"), Err(Rejection::APP_MALFORMED));
        assert_eq!(app("SdkAppid=1e3"), Err(Rejection::APP_MALFORMED));
        assert_eq!(app("SdkAppid=%FF"), Err(Rejection::APP_MALFORMED));
        assert_eq!(
            app("SdkAppid=99999999999999999999999"),
            Err(Rejection::APP_MALFORMED)
        );
        assert_eq!(app("sdkappid=1"), Err(Rejection::APP_MISSING));
    }

    #[test]
    fn signature_parameters_must_each_be_given_once() {
        let sig = |q: &str| {
            recall(&format!("CallbackCommand={RECALL_COMMAND}&{q}"))
                .unwrap()
                .signature()
                .map(|(t, s)| (t.to_owned(), s.to_owned()))
        };
        assert_eq!(sig("Sign=ab"), Err(Rejection::TIME_MISSING));
        assert_eq!(sig("RequestTime=1"), Err(Rejection::SIGN_MISSING));
        assert_eq!(
            sig("RequestTime=1&RequestTime=1&Sign=ab"),
            Err(Rejection::TIME_REPEATED)
        );
        assert_eq!(
            sig("RequestTime=1&Sign=ab&Sign=ab"),
            Err(Rejection::SIGN_REPEATED)
        );
        assert_eq!(
            sig("RequestTime=1&Sign=ab"),
            Ok(("1".to_owned(), "ab".to_owned()))
        );
    }

    #[test]
    fn content_type_is_compared_case_insensitively() {
        let check = |q: &str| {
            recall(&format!("CallbackCommand={RECALL_COMMAND}&{q}"))
                .unwrap()
                .check_content_type()
        };
        assert_eq!(check("contenttype=JSON"), Ok(()));
        assert_eq!(check("contenttype=Json"), Ok(()));
        assert_eq!(check("other=1"), Ok(()));
        assert_eq!(check("contenttype=xml"), Err(Rejection::CONTENT_TYPE));
        assert_eq!(
            check("contenttype=json&contenttype=json"),
            Err(Rejection::CONTENT_TYPE_REPEATED)
        );
    }

    #[test]
    fn informational_parameters_never_refuse() {
        let text = format!(
            "CallbackCommand={RECALL_COMMAND}&ClientIP=not-an-ip&OptPlatform=Harmony\
             &OptPlatform=Web"
        );
        let query = recall(&text).unwrap();
        let context = query.context(SdkAppId::new(1), Some(5));
        assert_eq!(context.client_ip, None);
        assert_eq!(context.platform, None);
        assert_eq!(context.request_time, Some(5));

        let text = format!("CallbackCommand={RECALL_COMMAND}&ClientIP=%3A%3A1&OptPlatform=Harmony");
        let query = recall(&text).unwrap();
        let context = query.context(SdkAppId::new(1), None);
        assert_eq!(context.client_ip, Some("::1".parse().unwrap()));
        assert_eq!(context.platform, Some(Platform::Other("Harmony".into())));
    }

    #[test]
    fn each_recall_kind_is_told_by_its_command_among_those_taken() {
        for &kind in RecallKind::ALL {
            let query = format!("SdkAppid=1&CallbackCommand={}", kind.command());
            assert_eq!(kind_of(&query, RecallKinds::ALL), Some(kind));
            // Escaped, the same.
            let escaped = query.replace("Callback", "Call%62ack").replace('.', "%2E");
            assert_eq!(kind_of(&escaped, RecallKinds::ALL), Some(kind), "{escaped}");
            // A kind the layer does not take is another command.
            let others = RecallKinds::of(RecallKind::ALL.iter().copied().filter(|k| *k != kind));
            assert_eq!(kind_of(&query, others), None);
            assert_eq!(kind_of(&escaped, others), None);
        }
    }

    #[test]
    fn with_the_guard_any_command_is_a_callback_and_nothing_else_is() {
        for (query, expected) in [
            ("SdkAppid=1&CallbackCommand=State.StateChange", Some(None)),
            (
                "CallbackCommand=Group.CallbackAfterRecallMsg",
                Some(Some(RecallKind::Group)),
            ),
            ("Callback%43ommand=State.StateChange", Some(None)),
            // A CallbackCommand parameter, whatever its value.
            ("CallbackCommand", Some(None)),
            ("CallbackCommand=", Some(None)),
            // No CallbackCommand parameter: never a callback, whatever else is there.
            ("", None),
            ("SdkAppid=1&Sign=x", None),
            ("callbackcommand=State.StateChange", None),
            ("x=CallbackCommand", None),
            ("x=Callback%43ommand", None),
        ] {
            assert_eq!(guarded(query), expected, "{query}");
        }
        // The first command is the one reported, decoded.
        let Some(Scanned::Other(query)) = CallbackQuery::scan(
            Some("CallbackCommand=State%2EStateChange&CallbackCommand=Group.CallbackAfterSendMsg"),
            RecallKinds::ALL,
            true,
        ) else {
            panic!("another command");
        };
        assert_eq!(query.command(), "State.StateChange");
    }

    #[test]
    fn the_quick_look_at_a_plain_query_never_misses_a_callback() {
        // For a query without escapes, `spelled_out` filters: it may let through a query that
        // is no recall, which the whole scan then passes on, but never turns one away.
        let values = [
            "Group.CallbackAfterRecallMsg",
            "C2C.CallbackAfterMsgWithDraw",
            "OfficialAccount.CallbackAfterMsgWithDraw",
            "Group.CallbackAfterSendMsg",
            "Group.CallbackAfterRecallMsgX",
            "",
        ];
        let shapes = [
            "CallbackCommand={v}",
            "SdkAppid=1&CallbackCommand={v}",
            "CallbackCommand={v}&SdkAppid=1",
            "x=CallbackCommand={v}",
            "xCallbackCommand={v}",
            "CallbackCommand=Group.CallbackAfterSendMsg&CallbackCommand={v}",
            "CallbackCommand={v}+",
            "a=b&&CallbackCommand={v}&&",
        ];
        for recalls in [
            RecallKinds::ALL,
            RecallKinds::of([RecallKind::OneToOne]),
            RecallKinds::of([RecallKind::Group]),
            RecallKinds::of([RecallKind::OfficialAccount]),
        ] {
            for shape in shapes {
                for value in values {
                    let query = shape.replace("{v}", value);
                    let whole = pairs(&query).any(|(name, value)| {
                        name == COMMAND_PARAMETER
                            && recalls.iter().any(|kind| decodes_to(value, kind.command()))
                    });
                    if whole {
                        assert!(spelled_out(&query, recalls, false), "{query}");
                    }
                    assert_eq!(kind_of(&query, recalls).is_some(), whole, "{query}");
                }
            }
        }
    }
}
