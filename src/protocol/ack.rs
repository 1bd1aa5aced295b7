//! The acknowledgement Tencent expects in answer to every callback.

use std::borrow::Cow;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde::{Deserialize, Serialize};

/// The JSON acknowledgement that answers a callback:
/// `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` or a `FAIL` with a non-zero code.
///
/// For `Group.CallbackAfterRecallMsg` Tencent ignores what the acknowledgement says, but records a
/// callback as failed when the answer is not HTTP 200 with a JSON body. In forward mode the inner
/// service builds the answer; `Ack::ok()` is that answer in one expression:
///
/// ```
/// use tower_tim_recall::Ack;
///
/// let response: http::Response<bytes::Bytes> = Ack::ok().into_http_response();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// assert_eq!(response.body(), r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#);
/// ```
///
/// With the `axum` feature, `Ack` implements `axum::response::IntoResponse`, so an axum handler
/// can return it directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    #[serde(rename = "ActionStatus")]
    status: ActionStatus,
    #[serde(rename = "ErrorInfo")]
    info: Cow<'static, str>,
    #[serde(rename = "ErrorCode")]
    code: i64,
}

/// `ActionStatus` of an [`Ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionStatus {
    /// The callback was handled.
    #[serde(rename = "OK")]
    Ok,
    /// The callback was refused or could not be handled.
    #[serde(rename = "FAIL")]
    Fail,
}

/// The serialized form of [`Ack::ok`], byte for byte as Tencent documents it.
const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

impl Ack {
    /// The success acknowledgement: `ActionStatus` `OK`, `ErrorCode` 0, empty `ErrorInfo`.
    pub const fn ok() -> Self {
        Self {
            status: ActionStatus::Ok,
            info: Cow::Borrowed(""),
            code: 0,
        }
    }

    /// A failure acknowledgement with `ErrorCode` 1 and the given `ErrorInfo`.
    ///
    /// Keep the reason short, and never put a secret in it: Tencent shows it in its logs.
    pub fn fail(info: impl Into<Cow<'static, str>>) -> Self {
        Self::fail_with_code(1, info)
    }

    /// A failure acknowledgement with a chosen `ErrorCode`.
    ///
    /// # Panics
    ///
    /// When `code` is 0, which means success in Tencent's protocol.
    pub fn fail_with_code(code: i64, info: impl Into<Cow<'static, str>>) -> Self {
        assert_ne!(code, 0, "a FAIL acknowledgement needs a non-zero ErrorCode");
        Self {
            status: ActionStatus::Fail,
            info: info.into(),
            code,
        }
    }

    /// `ActionStatus`.
    pub fn status(&self) -> ActionStatus {
        self.status
    }

    /// `true` for an `OK` acknowledgement.
    pub fn is_ok(&self) -> bool {
        self.status == ActionStatus::Ok
    }

    /// `ErrorCode`: 0 for success, non-zero for failure.
    pub fn error_code(&self) -> i64 {
        self.code
    }

    /// `ErrorInfo`: empty for success, a short reason for failure.
    pub fn error_info(&self) -> &str {
        &self.info
    }

    /// The JSON text of this acknowledgement.
    pub fn to_bytes(&self) -> Bytes {
        if *self == Self::ok() {
            return Bytes::from_static(OK_JSON.as_bytes());
        }
        // Serializing three plain fields cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    /// An HTTP response carrying this acknowledgement: status 200 and
    /// `Content-Type: application/json`.
    pub fn into_http_response<B: From<Bytes>>(self) -> Response<B> {
        json_response(StatusCode::OK, self.to_bytes())
    }
}

impl Default for Ack {
    fn default() -> Self {
        Self::ok()
    }
}

/// A response with the given status and a JSON body.
pub(crate) fn json_response<B: From<Bytes>>(status: StatusCode, json: Bytes) -> Response<B> {
    let mut response = Response::new(B::from(json));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponse for Ack {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_is_byte_for_byte_the_documented_answer() {
        assert_eq!(Ack::ok().to_bytes(), OK_JSON);
        assert_eq!(serde_json::to_string(&Ack::ok()).unwrap(), OK_JSON);
    }

    #[test]
    fn fail_has_all_three_fields() {
        let json = Ack::fail_with_code(403, "SdkAppid is not allowed").to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "ActionStatus": "FAIL",
                "ErrorCode": 403,
                "ErrorInfo": "SdkAppid is not allowed",
            })
        );
        let plain = Ack::fail("no");
        assert_eq!(plain.error_code(), 1);
        assert!(!plain.is_ok());
    }

    #[test]
    #[should_panic(expected = "non-zero ErrorCode")]
    fn fail_refuses_code_zero() {
        let _ = Ack::fail_with_code(0, "contradiction");
    }

    #[test]
    fn round_trips_through_json() {
        let ack: Ack = serde_json::from_str(OK_JSON).unwrap();
        assert_eq!(ack, Ack::ok());
        let fail: Ack =
            serde_json::from_str(r#"{"ActionStatus":"FAIL","ErrorCode":401,"ErrorInfo":"x"}"#)
                .unwrap();
        assert_eq!(fail.status(), ActionStatus::Fail);
        assert_eq!(fail.error_code(), 401);
        assert_eq!(fail.error_info(), "x");
    }

    #[test]
    fn response_is_json_200() {
        let response: Response<Bytes> = Ack::fail("x").into_http_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
