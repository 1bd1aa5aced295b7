//! Row: a recall command sent with another method than `POST`: 405.

use super::*;

#[tokio::test]
async fn a_recall_command_must_be_posted() {
    for (kind, query, _) in recalls() {
        // The method is checked before anything else in the query: a malformed app and a
        // thousand `Sign`s are not looked at.
        let hostile = format!(
            "{}&SdkAppid=%FF&{}",
            command_of(kind),
            repeated("Sign", 1000)
        );
        for query in [&query, &hostile] {
            for method in [
                Method::GET,
                Method::PUT,
                Method::DELETE,
                Method::HEAD,
                Method::PATCH,
                Method::from_bytes(b"X-HOSTILE").unwrap(),
            ] {
                let request = request(method, query, UNREAD);
                let reason = "callbacks must be sent with POST";
                refused(&layer(), request, StatusCode::METHOD_NOT_ALLOWED, reason).await;
            }
        }
    }
}
