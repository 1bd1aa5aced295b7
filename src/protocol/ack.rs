//! The acknowledgement Tencent expects in answer to every callback.

use std::borrow::Cow;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
///
/// Deserializing keeps the protocol's rule that `OK` goes with `ErrorCode` 0 and `FAIL` with
/// any other code: an acknowledgement that breaks it is an error, so every `Ack`, however made,
/// can be sent on as it is.
///
/// ```
/// use tower_tim_recall::Ack;
///
/// let read = |json: &str| serde_json::from_str::<Ack>(json);
/// let fail = read(r#"{"ActionStatus":"FAIL","ErrorInfo":"no","ErrorCode":4}"#)?;
/// assert_eq!(fail.error_code(), 4);
/// assert!(read(r#"{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":0}"#).is_err());
/// assert!(read(r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":9}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    status: ActionStatus,
    info: Cow<'static, str>,
    code: i64,
}

/// An acknowledgement on the wire, in Tencent's field order; read before the protocol's rule is
/// checked.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    #[serde(rename = "ActionStatus")]
    status: ActionStatus,
    #[serde(rename = "ErrorInfo")]
    info: Cow<'a, str>,
    #[serde(rename = "ErrorCode")]
    code: i64,
}

impl Serialize for Ack {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            status: self.status,
            info: Cow::Borrowed(&self.info),
            code: self.code,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Ack {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Wire { status, info, code } = Wire::<'static>::deserialize(deserializer)?;
        match (status, code) {
            (ActionStatus::Ok, 0) | (ActionStatus::Fail, 1..) | (ActionStatus::Fail, ..=-1) => {
                Ok(Self { status, info, code })
            }
            (ActionStatus::Ok, _) => {
                Err(D::Error::custom("an OK acknowledgement needs ErrorCode 0"))
            }
            (ActionStatus::Fail, _) => Err(D::Error::custom(
                "a FAIL acknowledgement needs a non-zero ErrorCode",
            )),
        }
    }
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
    #[must_use]
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
    #[must_use]
    pub fn fail(info: impl Into<Cow<'static, str>>) -> Self {
        Self::fail_with_code(1, info)
    }

    /// A failure acknowledgement with a chosen `ErrorCode`.
    ///
    /// # Panics
    ///
    /// When `code` is 0, which means success in Tencent's protocol.
    #[must_use]
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
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        if *self == Self::ok() {
            return Bytes::from_static(OK_JSON.as_bytes());
        }
        // Serializing three plain fields cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    /// An HTTP response carrying this acknowledgement: status 200 and
    /// `Content-Type: application/json`.
    #[must_use]
    pub fn into_http_response<B: From<Bytes>>(self) -> Response<B> {
        json_response(StatusCode::OK, B::from(self.to_bytes()))
    }
}

impl Default for Ack {
    fn default() -> Self {
        Self::ok()
    }
}

/// A response with the given status and `json`, a body of JSON text.
pub(crate) fn json_response<B>(status: StatusCode, json: B) -> Response<B> {
    let mut response = Response::new(json);
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
    fn deserializing_keeps_ok_with_code_zero_and_fail_with_another() {
        let read = |json: &str| serde_json::from_str::<Ack>(json).map_err(|e| e.to_string());
        for code in [1, -1, 500, i64::MIN, i64::MAX] {
            let json = format!(r#"{{"ActionStatus":"FAIL","ErrorInfo":"x","ErrorCode":{code}}}"#);
            assert_eq!(read(&json), Ok(Ack::fail_with_code(code, "x")));
        }
        let fail_zero = read(r#"{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":0}"#);
        assert!(fail_zero
            .unwrap_err()
            .contains("a FAIL acknowledgement needs a non-zero ErrorCode"));
        for code in [1, -1, 9] {
            let json = format!(r#"{{"ActionStatus":"OK","ErrorInfo":"x","ErrorCode":{code}}}"#);
            let ok_nonzero = read(&json).unwrap_err();
            assert!(
                ok_nonzero.contains("an OK acknowledgement needs ErrorCode 0"),
                "{ok_nonzero}"
            );
        }
        // The other shape errors are serde's own.
        assert!(read(r#"{"ActionStatus":"OK","ErrorInfo":""}"#).is_err());
        assert!(read(r#"{"ActionStatus":"MAYBE","ErrorInfo":"","ErrorCode":0}"#).is_err());
    }

    #[test]
    fn response_is_json_200() {
        let response: Response<Bytes> = Ack::fail("x").into_http_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
