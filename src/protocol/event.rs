//! The recall event: the JSON body of `Group.CallbackAfterRecallMsg` plus its query context.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::query::{QueryContext, RECALL_COMMAND};
use super::rejection::Rejection;

/// Group messages that were just recalled, as one `Group.CallbackAfterRecallMsg` callback
/// reports them.
///
/// The layer puts one in the request extensions of every accepted callback (forward mode), or
/// hands it to the handler (acknowledge mode). Fields from the JSON body keep Tencent's meaning;
/// the query context (`SdkAppid`, `ClientIP`, `OptPlatform`, `RequestTime`) comes from the
/// callback URL. Serialized, it uses Tencent's field names, so it can be logged or queued as the
/// JSON Tencent sent plus the query context.
///
/// Tencent adds fields over time: unknown fields are ignored, and this struct is
/// `#[non_exhaustive]` so that new ones can be added here without breaking users.
///
/// A callback may be delivered twice when retries on timeout are switched on in Tencent's
/// console; there is no delivery ID, so deduplicate on
/// (`sdk_app_id`, `group_id`, `topic_id`, `msg_seq`).
///
/// `Serialize` and `Deserialize` round-trip every field, so an event can be queued as JSON and
/// read back whole. The layer does not read a callback body this way: it reads the body's own
/// fields and takes the query context from the URL only, so a body cannot claim another app.
///
/// ```
/// use tower_tim_recall::{RecallEvent, RecalledMessage};
///
/// let event = RecallEvent::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
/// let queued = serde_json::to_string(&event).unwrap();
/// assert_eq!(serde_json::from_str::<RecallEvent>(&queued).unwrap(), event);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecallEvent {
    /// `SdkAppid` (query): the app the callback is for, already checked against the allowlist.
    #[serde(rename = "SdkAppid", default)]
    pub sdk_app_id: SdkAppId,
    /// `CallbackCommand` (body): when present it must be `Group.CallbackAfterRecallMsg`.
    #[serde(rename = "CallbackCommand", default)]
    command: RecallCommand,
    /// `Operator_Account`: the UserID of whoever recalled; the app admin for a REST API recall.
    #[serde(
        rename = "Operator_Account",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub operator_account: Option<String>,
    /// `Type`: the group type.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub group_type: Option<GroupType>,
    /// `GroupId`: the group the messages were recalled from.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `MsgSeqList`: the recalled messages.
    #[serde(rename = "MsgSeqList")]
    pub messages: Vec<RecalledMessage>,
    /// `TopicId`: the topic, for a community group with topics.
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// `EventTime`: when the recall happened, in milliseconds. Sent as a number or as a string of
    /// digits, depending on the documentation version; both are accepted.
    #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<UnixMillis>,
    /// `ClientIP` (query): the end user's client address, as Tencent reports it.
    ///
    /// This is not the address of Tencent's sender: never use it for access control.
    #[serde(rename = "ClientIP", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// `OptPlatform` (query): the platform the recall was made from.
    #[serde(
        rename = "OptPlatform",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub platform: Option<Platform>,
    /// `RequestTime` (query): Unix seconds when Tencent sent the callback, present when callback
    /// authentication is on (and then verified).
    #[serde(
        rename = "RequestTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub request_time: Option<u64>,
}

impl RecallEvent {
    /// An event with the given app, group and recalled messages, and every optional field
    /// empty: for tests of code that handles events.
    ///
    /// ```
    /// use tower_tim_recall::{RecallEvent, RecalledMessage};
    ///
    /// let mut event = RecallEvent::new(1400000000, "@TGS#2J4SZEAEL", [RecalledMessage::new(130, None)]);
    /// event.operator_account = Some("admin".to_owned());
    /// assert_eq!(event.sdk_app_id.get(), 1400000000);
    /// ```
    #[must_use]
    pub fn new(
        sdk_app_id: impl Into<SdkAppId>,
        group_id: impl Into<String>,
        messages: impl IntoIterator<Item = RecalledMessage>,
    ) -> Self {
        Self {
            sdk_app_id: sdk_app_id.into(),
            command: RecallCommand,
            operator_account: None,
            group_type: None,
            group_id: group_id.into(),
            messages: messages.into_iter().collect(),
            topic_id: None,
            event_time: None,
            client_ip: None,
            platform: None,
            request_time: None,
        }
    }
}

/// One recalled message, an item of `MsgSeqList`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecalledMessage {
    /// `MsgSeq`: the message's sequence number in its group (or topic).
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u32,
    /// `MsgId`: the message's ID, sent by newer versions of Tencent's backend.
    #[serde(rename = "MsgId", default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
}

impl RecalledMessage {
    /// A recalled message with the given sequence number and, optionally, ID.
    #[must_use]
    pub fn new(msg_seq: u32, msg_id: Option<String>) -> Self {
        Self { msg_seq, msg_id }
    }
}

/// Parses a callback body, the query context already checked.
///
/// The body must be one JSON object, with nothing after it; `GroupId` and `MsgSeqList` are
/// required; fields Tencent may add later are ignored.
pub(crate) fn parse_event(body: &[u8], context: QueryContext) -> Result<RecallEvent, Rejection> {
    // A derived struct would also accept a JSON array of its fields in order.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(Rejection::NOT_AN_OBJECT);
    }
    // JSON text is UTF-8 (RFC 8259, 8.1). serde_json checks the strings it reads, but not those
    // of fields it skips: check the whole body, so that every forwarded body is text.
    let text = std::str::from_utf8(body).map_err(|_| Rejection::NOT_UTF8)?;
    if !nesting_within(body, MAX_NESTING) {
        return Err(Rejection::TOO_DEEP);
    }
    let body: BodyFields = serde_json::from_str(text).map_err(Rejection::invalid_body)?;
    Ok(RecallEvent {
        sdk_app_id: context.sdk_app_id,
        command: RecallCommand,
        operator_account: body.operator_account,
        group_type: body.group_type,
        group_id: body.group_id,
        messages: body.messages,
        topic_id: body.topic_id,
        event_time: body.event_time,
        client_ip: context.client_ip,
        platform: context.platform,
        request_time: context.request_time,
    })
}

/// The fields of a callback body, as Tencent names them. Anything else in the body, a
/// `SdkAppid` or `ClientIP` included, is an unknown field and ignored: the query context comes
/// from the URL.
#[derive(Deserialize)]
struct BodyFields {
    #[serde(rename = "CallbackCommand", default)]
    #[allow(dead_code)] // Read to check it: only the recall command is accepted.
    command: RecallCommand,
    #[serde(rename = "Operator_Account", default)]
    operator_account: Option<String>,
    #[serde(rename = "Type", default)]
    group_type: Option<GroupType>,
    #[serde(rename = "GroupId")]
    group_id: String,
    #[serde(rename = "MsgSeqList")]
    messages: Vec<RecalledMessage>,
    #[serde(rename = "TopicId", default)]
    topic_id: Option<String>,
    #[serde(rename = "EventTime", default)]
    event_time: Option<UnixMillis>,
}

/// The JSON body Tencent sends for `event`, in the order and with the names of Tencent's
/// documented example, with `command` as its `CallbackCommand`.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn body_json(event: &RecallEvent, command: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "CallbackCommand")]
        command: &'a str,
        #[serde(rename = "Operator_Account", skip_serializing_if = "Option::is_none")]
        operator_account: Option<&'a str>,
        #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
        group_type: Option<&'a GroupType>,
        #[serde(rename = "GroupId")]
        group_id: &'a str,
        #[serde(rename = "MsgSeqList")]
        messages: &'a [RecalledMessage],
        #[serde(rename = "TopicId", skip_serializing_if = "Option::is_none")]
        topic_id: Option<&'a str>,
        #[serde(rename = "EventTime", skip_serializing_if = "Option::is_none")]
        event_time: Option<UnixMillis>,
    }
    let body = Body {
        command,
        operator_account: event.operator_account.as_deref(),
        group_type: event.group_type.as_ref(),
        group_id: &event.group_id,
        messages: &event.messages,
        topic_id: event.topic_id.as_deref(),
        event_time: event.event_time,
    };
    // Strings, numbers and a list of them: serializing cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// How deep arrays and objects may nest in a body: as deep as serde_json parses a `Value`
/// (it refuses the 128th level), so that an inner service can parse any body it is handed.
/// Tencent's body nests three levels.
const MAX_NESTING: usize = 127;

/// Whether arrays and objects in `json` nest at most `max` levels deep.
///
/// serde_json limits the nesting of what it reads but skips unknown fields without a limit
/// (iteratively, so the layer itself is safe either way): without this check a body could
/// carry a field nested tens of thousands of levels deep on to the inner service. Exact for
/// valid JSON; for anything else, serde_json refuses the body anyway.
fn nesting_within(json: &[u8], max: usize) -> bool {
    // Fewer brackets than the limit cannot nest past it: the usual case costs one counting pass.
    if openers(json) <= max {
        return true;
    }
    let mut depth = 0usize;
    let mut bytes = json.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'"' => skip_string(&mut bytes),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Moves `bytes`, just past a string's opening quote, past its closing quote (or to the end),
/// stepping over escaped characters: a string's text needs no look at brackets.
fn skip_string(bytes: &mut std::slice::Iter<'_, u8>) {
    while let Some(&byte) = bytes.next() {
        match byte {
            b'"' => return,
            b'\\' => {
                bytes.next();
            }
            _ => {}
        }
    }
}

/// How many `[` and `{` bytes `json` holds.
fn openers(json: &[u8]) -> usize {
    // Counted in a `u8` per chunk, which 255 bytes cannot overflow: the compiler then compares
    // 16 bytes at a time, where a `usize` count per byte (`filter().count()`) took 4.
    json.chunks(255)
        .map(|chunk| {
            let count = chunk
                .iter()
                .fold(0u8, |count, &b| count + u8::from(b == b'[' || b == b'{'));
            usize::from(count)
        })
        .sum()
}

/// An SDKAppID: the number that identifies an app in Tencent Cloud IM.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SdkAppId(u64);

impl SdkAppId {
    /// The SDKAppID with this number.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for SdkAppId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl From<SdkAppId> for u64 {
    fn from(id: SdkAppId) -> Self {
        id.0
    }
}

impl fmt::Display for SdkAppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A point in time as Unix milliseconds, as in `EventTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnixMillis(u64);

impl UnixMillis {
    /// The time `millis` milliseconds after the Unix epoch.
    pub const fn new(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The same time as a [`SystemTime`], or `None` when the platform's `SystemTime` cannot
    /// represent it.
    ///
    /// `EventTime` is whatever the body says, up to `u64::MAX` milliseconds (some 584 million
    /// years), so the conversion is checked rather than a panic waiting for a hostile body on a
    /// platform with a narrower `SystemTime`.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use tower_tim_recall::UnixMillis;
    ///
    /// let at = UnixMillis::new(1_669_872_112_000).to_system_time();
    /// assert_eq!(at, Some(UNIX_EPOCH + Duration::from_secs(1_669_872_112)));
    /// ```
    #[must_use]
    pub fn to_system_time(self) -> Option<SystemTime> {
        UNIX_EPOCH.checked_add(Duration::from_millis(self.0))
    }
}

impl<'de> Deserialize<'de> for UnixMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MillisVisitor;

        impl Visitor<'_> for MillisVisitor {
            type Value = UnixMillis;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("milliseconds as a non-negative integer or a string of digits")
            }

            fn visit_u64<E: de::Error>(self, millis: u64) -> Result<UnixMillis, E> {
                Ok(UnixMillis(millis))
            }

            fn visit_i64<E: de::Error>(self, millis: i64) -> Result<UnixMillis, E> {
                u64::try_from(millis)
                    .map(UnixMillis)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(millis), &self))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<UnixMillis, E> {
                let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
                digits
                    .then(|| text.parse().ok())
                    .flatten()
                    .map(UnixMillis)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }

        deserializer.deserialize_any(MillisVisitor)
    }
}

/// The body's `CallbackCommand`, which can only be this crate's command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RecallCommand;

impl Serialize for RecallCommand {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(RECALL_COMMAND)
    }
}

impl<'de> Deserialize<'de> for RecallCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;

        impl Visitor<'_> for CommandVisitor {
            type Value = RecallCommand;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "the query's CallbackCommand, {RECALL_COMMAND}")
            }

            fn visit_str<E: de::Error>(self, command: &str) -> Result<RecallCommand, E> {
                if command == RECALL_COMMAND {
                    Ok(RecallCommand)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(command), &self))
                }
            }
        }

        deserializer.deserialize_str(CommandVisitor)
    }
}

/// An enum of the values Tencent documents for a string field, open to values it adds later.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)*, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as Tencent writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct OpenVisitor;

                impl Visitor<'_> for OpenVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }

                    fn visit_str<E: de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                }

                deserializer.deserialize_str(OpenVisitor)
            }
        }
    };
}

open_enum! {
    /// `Type`: the kind of group.
    pub enum GroupType {
        /// `Private`: a work group (client SDKs call it Work).
        Private = "Private",
        /// `Public`: a public group.
        Public = "Public",
        /// `ChatRoom`: a meeting group (client SDKs call it Meeting).
        ChatRoom = "ChatRoom",
        /// `AVChatRoom`: an audio-video (live streaming) group.
        AvChatRoom = "AVChatRoom",
        /// `Community`: a community group, which may have topics.
        Community = "Community",
        /// `BChatRoom`: the legacy broadcast chat room.
        BChatRoom = "BChatRoom",
    }
}

open_enum! {
    /// `OptPlatform`: where the operation came from.
    pub enum Platform {
        /// `RESTAPI`: Tencent's server API.
        RestApi = "RESTAPI",
        /// `Web`.
        Web = "Web",
        /// `Android`.
        Android = "Android",
        /// `iOS`.
        Ios = "iOS",
        /// `Windows`.
        Windows = "Windows",
        /// `Mac` (the English documentation writes `macOS`; both are read as this).
        Mac = "Mac" | "macOS",
        /// `iPad`.
        IPad = "iPad",
        /// `Unknown`: Tencent could not tell.
        Unknown = "Unknown",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn context() -> QueryContext {
        QueryContext {
            sdk_app_id: SdkAppId::new(1_400_000_000),
            client_ip: None,
            platform: Some(Platform::RestApi),
            request_time: None,
        }
    }

    fn parse(body: &str) -> Result<RecallEvent, Rejection> {
        parse_event(body.as_bytes(), context())
    }

    /// Tencent's newest documented example, on one line.
    pub(crate) const DOCUMENTED: &str = include_str!("../../tests/fixtures/recall_documented.json");

    /// The event parsed from [`DOCUMENTED`] with the query of Tencent's documented URL.
    pub(crate) fn documented_event() -> RecallEvent {
        let mut event = RecallEvent::new(
            1_400_000_000,
            "@TGS#_@TGS#cQVLVHIM62CJ",
            [RecalledMessage::new(
                130,
                Some("144115213033478435-1739361321-2512805311".into()),
            )],
        );
        event.operator_account = Some("admin".into());
        event.group_type = Some(GroupType::Community);
        event.topic_id = Some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic".into());
        event.event_time = Some(UnixMillis::new(1_670_574_414_123));
        event.client_ip = Some("127.0.0.1".parse().unwrap());
        event.platform = Some(Platform::RestApi);
        event
    }

    #[test]
    fn openers_are_counted_across_chunks() {
        assert_eq!(openers(b""), 0);
        assert_eq!(openers(br#"{"a":[1,{"b":"[{"}]}"#), 5);
        // Every count a chunk's `u8` can hold, and past one chunk.
        for len in [254, 255, 256, 510, 511, 1000] {
            let all = vec![b'['; len];
            assert_eq!(openers(&all), len);
            let mixed: Vec<u8> = (0..len).map(|i| b"[{]}x\\"[i % 6]).collect();
            assert_eq!(openers(&mixed), (0..len).filter(|i| i % 6 < 2).count());
        }
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(nesting_within(b"[[[]]]", 3));
        assert!(!nesting_within(b"[[[[]]]]", 3));
        assert!(nesting_within(b"[{},{},{},{}]", 2));
        // Brackets in strings, after escaped quotes and backslashes, do not count.
        assert!(nesting_within(br#"{"a":"[[[[\"[[[[","b":"\\","c":[]}"#, 2));
        assert!(!nesting_within(br#"{"a":"\\",[[]]}"#, 2));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(127), "]".repeat(127));
        assert_eq!(parse(&deep), Err(Rejection::TOO_DEEP));
    }

    #[test]
    fn invalid_utf8_is_refused_even_where_nothing_is_read() {
        let body = b"{\"GroupId\":\"g\",\"MsgSeqList\":[],\"x\":\"\xff\"}";
        assert_eq!(parse_event(body, context()), Err(Rejection::NOT_UTF8));
    }

    #[test]
    fn parses_the_documented_example() {
        let mut context = context();
        context.client_ip = Some("127.0.0.1".parse().unwrap());
        assert_eq!(
            parse_event(DOCUMENTED.as_bytes(), context),
            Ok(documented_event())
        );
    }

    #[test]
    fn event_time_as_string_or_number() {
        let body = |time: &str| {
            format!(r#"{{"GroupId":"g","MsgSeqList":[{{"MsgSeq":1}}],"EventTime":{time}}}"#)
        };
        let at = Some(UnixMillis::new(1_670_574_414_123));
        assert_eq!(parse(&body("1670574414123")).unwrap().event_time, at);
        assert_eq!(parse(&body(r#""1670574414123""#)).unwrap().event_time, at);
        assert_eq!(parse(&body("null")).unwrap().event_time, None);
        for bad in [
            r#""""#, r#""-1""#, r#""12a""#, "-1", "1.5", "true", r#""+1""#,
        ] {
            let err = parse(&body(bad)).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
        }
    }

    #[test]
    fn the_oldest_form_has_only_seqs() {
        let event = parse(
            r#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"u1",
                "Type":"Public","GroupId":"1213456","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2}]}"#,
        )
        .unwrap();
        assert_eq!(event.topic_id, None);
        assert_eq!(event.event_time, None);
        assert_eq!(event.messages.len(), 2);
        assert_eq!(event.messages[1].msg_id, None);
    }

    #[test]
    fn unknown_fields_and_unknown_values_are_kept_or_ignored() {
        let event = parse(
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":4294967295,"Extra":[1,{"a":2}]}],
                "Type":"FutureRoom","NewField":{"nested":true}}"#,
        )
        .unwrap();
        assert_eq!(
            event.group_type,
            Some(GroupType::Other("FutureRoom".into()))
        );
        assert_eq!(event.messages[0].msg_seq, u32::MAX);
    }

    #[test]
    fn required_fields_and_types_are_enforced() {
        for bad in [
            r#"{"MsgSeqList":[{"MsgSeq":1}]}"#,
            r#"{"GroupId":"g"}"#,
            r#"{"GroupId":1,"MsgSeqList":[]}"#,
            r#"{"GroupId":"g","MsgSeqList":{}}"#,
            r#"{"GroupId":"g","MsgSeqList":[{"MsgId":"x"}]}"#,
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":4294967296}]}"#,
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":-1}]}"#,
            r#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":"1"}]}"#,
            r#"{"GroupId":"g","MsgSeqList":[],"Type":5}"#,
            r#"{"GroupId":"g","MsgSeqList":[],"Operator_Account":5}"#,
            r#"{"GroupId":"g","GroupId":"h","MsgSeqList":[]}"#,
            r#"{"GroupId":"g","MsgSeqList":[]} {}"#,
            r#"{"GroupId":"g","MsgSeqList":[]"#,
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert!(err.reason().starts_with("invalid body"), "{bad}: {err:?}");
        }
    }

    #[test]
    fn only_an_object_is_an_event() {
        for bad in [
            "",
            "   ",
            "null",
            r#"["Group.CallbackAfterRecallMsg","u","Public","g",[]]"#,
            "\u{feff}{}",
            "42",
        ] {
            assert_eq!(parse(bad), Err(Rejection::NOT_AN_OBJECT), "{bad:?}");
        }
    }

    #[test]
    fn body_command_must_be_the_recall_command() {
        let err = parse(
            r#"{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g","MsgSeqList":[]}"#,
        )
        .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.reason().contains("CallbackCommand") || err.reason().contains("Group."));
    }

    #[test]
    fn serializes_with_tencent_names() {
        let event = parse(DOCUMENTED).unwrap();
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "SdkAppid": 1400000000u64,
                "CallbackCommand": "Group.CallbackAfterRecallMsg",
                "Operator_Account": "admin",
                "Type": "Community",
                "GroupId": "@TGS#_@TGS#cQVLVHIM62CJ",
                "MsgSeqList": [{"MsgSeq": 130, "MsgId": "144115213033478435-1739361321-2512805311"}],
                "TopicId": "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic",
                "EventTime": 1670574414123u64,
                "OptPlatform": "RESTAPI",
            })
        );
    }

    #[test]
    fn open_enums_round_trip() {
        for wire in [
            "RESTAPI", "Web", "Android", "iOS", "Windows", "Mac", "iPad", "Unknown",
        ] {
            assert_eq!(Platform::from(wire).as_str(), wire);
            assert!(!matches!(Platform::from(wire), Platform::Other(_)));
        }
        assert_eq!(Platform::from("macOS"), Platform::Mac);
        for wire in [
            "Private",
            "Public",
            "ChatRoom",
            "AVChatRoom",
            "Community",
            "BChatRoom",
        ] {
            assert_eq!(GroupType::from(wire).to_string(), wire);
            assert!(!matches!(GroupType::from(wire), GroupType::Other(_)));
        }
        assert_eq!(GroupType::from("Work"), GroupType::Other("Work".into()));
    }

    #[test]
    fn a_constructed_event_serializes_like_a_parsed_one() {
        let built = RecallEvent::new(1_400_000_000, "g", [RecalledMessage::new(1, None)]);
        let parsed = parse_event(
            br#"{"GroupId":"g","MsgSeqList":[{"MsgSeq":1}]}"#,
            QueryContext {
                sdk_app_id: SdkAppId::new(1_400_000_000),
                client_ip: None,
                platform: None,
                request_time: None,
            },
        )
        .unwrap();
        assert_eq!(built, parsed);
    }

    #[test]
    fn event_time_converts_to_system_time() {
        let at = UnixMillis::new(1_500);
        assert_eq!(
            at.to_system_time(),
            Some(UNIX_EPOCH + Duration::from_millis(1_500))
        );
    }

    #[test]
    fn any_event_time_converts_without_panicking() {
        // The body chooses `EventTime`: the largest one is as representable as the platform's
        // `SystemTime` makes it, and never a panic.
        for millis in [0, u64::MAX / 2, u64::MAX] {
            assert_eq!(
                UnixMillis::new(millis).to_system_time(),
                UNIX_EPOCH.checked_add(Duration::from_millis(millis)),
                "{millis}"
            );
        }
    }

    #[test]
    fn a_queued_event_reads_back_whole() {
        let mut event = documented_event();
        event.client_ip = Some("2001:db8::7".parse().unwrap());
        event.platform = Some(Platform::Other("HarmonyOS".to_owned()));
        event.request_time = Some(1_669_872_112);
        let queued = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            serde_json::from_slice::<RecallEvent>(&queued).unwrap(),
            event
        );
    }

    #[test]
    fn query_fields_in_a_body_are_ignored_whatever_they_hold() {
        // The layer takes the app and the query context from the URL; in a body they are
        // unknown fields, skipped even when they could not be read as such.
        let event = parse(
            r#"{"SdkAppid":"not a number","ClientIP":5,"OptPlatform":[],"RequestTime":"x",
                "GroupId":"g","MsgSeqList":[{"MsgSeq":1}]}"#,
        )
        .unwrap();
        assert_eq!(event.sdk_app_id, SdkAppId::new(1_400_000_000));
        assert_eq!(event.client_ip, None);
        assert_eq!(event.platform, Some(Platform::RestApi));
        assert_eq!(event.request_time, None);
    }
}
