//! The callback URL's query string: which callback this is, for which app, signed how.
//!
//! Tencent sends every callback command of an app to the same URL and tells them apart by the
//! `CallbackCommand` query parameter. Parameters are found by name (case-sensitive, as Tencent
//! spells them), after percent-decoding, in one pass over the query that borrows from it: names
//! are compared as they decode, without a buffer, and only the values of a recall callback's
//! parameters are decoded, allocating only when they contain an escape.

use std::borrow::Cow;

use super::app::SdkAppId;
use super::command::RECALL_COMMAND;
use super::context::QueryContext;
use super::digits::decimal;
use super::platform::Platform;
use super::rejection::Rejection;
use super::urlencoded::{decode, decodes_to, pairs};

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

/// The query of a request that carries `CallbackCommand=Group.CallbackAfterRecallMsg`.
#[derive(Debug, Default)]
pub(crate) struct CallbackQuery<'a> {
    command_repeated: bool,
    sdk_app_id: Param<'a>,
    sign: Param<'a>,
    request_time: Param<'a>,
    client_ip: Param<'a>,
    platform: Param<'a>,
    content_type: Param<'a>,
}

impl<'a> CallbackQuery<'a> {
    /// Reads a request's query. `None` means the request is not a recall callback: no
    /// `CallbackCommand` parameter has the value `Group.CallbackAfterRecallMsg`.
    pub(crate) fn scan(query: Option<&'a str>) -> Option<Self> {
        let query = query?;
        // Only a percent-escape can turn other text into the recall command: without one, the
        // command must be spelled out. This keeps every other request to two searches.
        let percent = query.as_bytes().contains(&b'%');
        if !percent && !query.contains(RECALL_COMMAND) {
            return None;
        }
        // Most queries have nothing to decode: their names and values are used as they are.
        let plain = !percent && !query.as_bytes().contains(&b'+');
        let mut scanned = Self::default();
        let mut commands = 0usize;
        let mut ours = false;
        for (name, value) in pairs(query) {
            let name = if plain { Some(name) } else { known_name(name) };
            let slot = match name {
                Some("CallbackCommand") => {
                    commands += 1;
                    // A plain query was checked for escapes once, as a whole.
                    ours |= if plain {
                        value == RECALL_COMMAND
                    } else {
                        decodes_to(value, RECALL_COMMAND)
                    };
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
        if !ours {
            return None;
        }
        scanned.command_repeated = commands > 1;
        if plain {
            return Some(scanned);
        }
        // Values are decoded only now, so that other requests never allocate.
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
        Some(scanned)
    }

    /// `CallbackCommand` must be given once: a second value could route the request elsewhere
    /// in a service behind the layer.
    pub(crate) fn check_command(&self) -> Result<(), Rejection> {
        if self.command_repeated {
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
    pub(crate) fn context(&self, sdk_app_id: SdkAppId, request_time: Option<u64>) -> QueryContext {
        QueryContext {
            sdk_app_id,
            client_ip: self.client_ip.once().and_then(|ip| ip.parse().ok()),
            platform: self.platform.once().map(Platform::from),
            request_time,
        }
    }
}

/// The parameter names the scan looks for.
const NAMES: [&str; 7] = [
    "CallbackCommand",
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

    const TYPICAL: &str = "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg\
                           &contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI";

    #[test]
    fn recognises_the_recall_command_by_name_not_position() {
        let query = CallbackQuery::scan(Some(TYPICAL)).expect("ours");
        assert_eq!(query.sdk_app_id(), Ok(SdkAppId::new(1_400_000_000)));
        assert_eq!(query.check_command(), Ok(()));
        assert_eq!(query.check_content_type(), Ok(()));
        let context = query.context(SdkAppId::new(1_400_000_000), None);
        assert_eq!(context.client_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(context.platform, Some(Platform::RestApi));

        let reordered = "CallbackCommand=Group.CallbackAfterRecallMsg&SdkAppid=7";
        let query = CallbackQuery::scan(Some(reordered)).expect("ours");
        assert_eq!(query.sdk_app_id(), Ok(SdkAppId::new(7)));
    }

    #[test]
    fn other_commands_and_no_query_are_not_ours() {
        assert!(CallbackQuery::scan(None).is_none());
        assert!(CallbackQuery::scan(Some("")).is_none());
        assert!(CallbackQuery::scan(Some("SdkAppid=1")).is_none());
        assert!(CallbackQuery::scan(Some(
            "SdkAppid=1&CallbackCommand=Group.CallbackAfterSendMsg"
        ))
        .is_none());
        // Names and values are case-sensitive, as Tencent spells them.
        assert!(
            CallbackQuery::scan(Some("callbackcommand=Group.CallbackAfterRecallMsg")).is_none()
        );
        assert!(
            CallbackQuery::scan(Some("CallbackCommand=group.callbackafterrecallmsg")).is_none()
        );
    }

    #[test]
    fn values_and_names_are_percent_decoded() {
        let query = CallbackQuery::scan(Some(
            "%43allbackCommand=Group%2ECallbackAfterRecallMsg&SdkApp%69d=%31%32",
        ))
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
            assert!(CallbackQuery::scan(Some(query)).is_some(), "{query}");
        }
        // `+` decodes to a space, which the command does not contain.
        assert!(
            CallbackQuery::scan(Some("CallbackCommand=Group.CallbackAfter+RecallMsg")).is_none()
        );
        // The command text elsewhere is not enough.
        assert!(CallbackQuery::scan(Some("x=Group.CallbackAfterRecallMsg")).is_none());
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
        assert!(CallbackQuery::scan(Some(query)).is_none());
    }

    #[test]
    fn a_repeated_command_is_refused() {
        let query = CallbackQuery::scan(Some(
            "CallbackCommand=Group.CallbackAfterSendMsg&CallbackCommand=Group.CallbackAfterRecallMsg",
        ))
        .expect("ours");
        assert_eq!(query.check_command(), Err(Rejection::COMMAND_REPEATED));
    }

    #[test]
    fn sdk_app_id_must_be_one_decimal_integer() {
        let app = |q: &str| {
            CallbackQuery::scan(Some(&format!("CallbackCommand={RECALL_COMMAND}&{q}")))
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
            CallbackQuery::scan(Some(&format!("CallbackCommand={RECALL_COMMAND}&{q}")))
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
            CallbackQuery::scan(Some(&format!("CallbackCommand={RECALL_COMMAND}&{q}")))
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
        let query = CallbackQuery::scan(Some(&text)).unwrap();
        let context = query.context(SdkAppId::new(1), Some(5));
        assert_eq!(context.client_ip, None);
        assert_eq!(context.platform, None);
        assert_eq!(context.request_time, Some(5));

        let text = format!("CallbackCommand={RECALL_COMMAND}&ClientIP=%3A%3A1&OptPlatform=Harmony");
        let query = CallbackQuery::scan(Some(&text)).unwrap();
        let context = query.context(SdkAppId::new(1), None);
        assert_eq!(context.client_ip, Some("::1".parse().unwrap()));
        assert_eq!(context.platform, Some(Platform::Other("Harmony".into())));
    }
}
