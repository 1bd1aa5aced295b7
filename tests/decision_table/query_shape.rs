//! Row: `CallbackCommand` repeated, `contenttype` other than `json`: 400, body unread.

use super::*;

const REPEATED: &str = "CallbackCommand is repeated";
const CONTENT_TYPE: &str = "contenttype is not json";
const CONTENT_TYPE_REPEATED: &str = "contenttype is repeated";

#[tokio::test]
async fn query_shape_errors_are_refused_before_reading() {
    for (kind, query, _) in recalls() {
        let command = command_of(kind);
        // As many commands as the longest request target holds.
        let many = (URI_MAX - 100) / (command.len() + 1);
        let mut cases = vec![
            (
                format!("{query}&CallbackCommand=State.StateChange"),
                REPEATED,
            ),
            (
                format!("CallbackCommand=State.StateChange&{query}"),
                REPEATED,
            ),
            (format!("{query}&{command}"), REPEATED),
            // Two recall commands: which one the body is would be a guess.
            (
                format!("{query}&{COMMAND}&{}", command_of(RecallKind::OneToOne)),
                REPEATED,
            ),
            // Hostile spellings of a second command, and many of them.
            (format!("{query}&CallbackCommand"), REPEATED),
            (format!("{query}&CallbackCommand="), REPEATED),
            (format!("{query}&Callback%43ommand=%FF"), REPEATED),
            (
                format!("SdkAppid=1400000000&{}", repeated(&command, many)),
                REPEATED,
            ),
        ];
        // `contenttype=json` in the documented query, spelled otherwise.
        for (spelling, reason) in [
            ("contenttype=xml", CONTENT_TYPE),
            ("contenttype", CONTENT_TYPE),
            ("contenttype=", CONTENT_TYPE),
            ("contenttype=json;charset=utf-8", CONTENT_TYPE),
            ("contenttype=json%00", CONTENT_TYPE),
            ("contenttype=json&contenttype=json", CONTENT_TYPE_REPEATED),
            ("contenttype=xml&content%74ype=json", CONTENT_TYPE_REPEATED),
        ] {
            cases.push((query.replace("contenttype=json", spelling), reason));
        }
        for (query, reason) in cases {
            refused_unread(&layer(), &query, StatusCode::BAD_REQUEST, reason).await;
        }
        // The signature is checked before the shape: an unsigned request with a bad shape is
        // a 401.
        let query = format!("{query}&CallbackCommand=State.StateChange");
        let reason = "RequestTime is missing";
        refused_unread(&signed_layer(), &query, StatusCode::UNAUTHORIZED, reason).await;
    }
}

#[tokio::test]
async fn contenttype_json_is_json_escaped_or_in_any_case() {
    for (kind, query, body) in recalls() {
        for spelling in ["contenttype=%4A%53%4F%4E", "content%74ype=JSON"] {
            let query = query.replace("contenttype=json", spelling);
            assert_eq!(accept(&layer(), &query, full(body)).await.kind(), kind);
        }
    }
}
