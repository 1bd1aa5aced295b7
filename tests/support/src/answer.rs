//! An answer read whole, and the one check of each kind of answer.

use bytes::Bytes;
use http::{header, HeaderMap, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};

use crate::fixtures::OK_JSON;
use crate::recorder::INNER;

/// An answer, read whole: from a service with [`read`](Self::read), or from a socket by the
/// `net` client.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Answer {
    /// Reads `response` whole.
    pub async fn read<B>(response: Response<B>) -> Self
    where
        B: Body,
        B::Error: std::fmt::Debug,
    {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the answer's body failed");
        Self {
            status: parts.status,
            headers: parts.headers,
            body: body.to_bytes(),
        }
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// `Content-Type`, or empty.
    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE.as_str()).unwrap_or("")
    }

    /// The answer as a response again, for checks written against responses (`read_ack`).
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }

    /// A refusal: this status, `Content-Type: application/json`, and byte for byte the `FAIL`
    /// acknowledgement with this reason and the status as its code, in Tencent's field order.
    pub fn assert_fail(&self, status: StatusCode, reason: &str) {
        let expected = fail_json(status, reason);
        assert_eq!(
            (
                self.status,
                self.content_type(),
                String::from_utf8_lossy(&self.body)
            ),
            (status, "application/json", expected.as_str().into()),
        );
    }

    /// 200, JSON, the documented `OK` acknowledgement byte for byte.
    pub fn assert_ok_ack(&self) {
        assert_eq!(
            (self.status, self.content_type(), &self.body[..]),
            (StatusCode::OK, "application/json", OK_JSON.as_bytes()),
            "{self:?}"
        );
    }

    /// 200 with this body.
    pub fn assert_text(&self, body: &str) {
        assert_eq!(
            (self.status, &self.body[..]),
            (StatusCode::OK, body.as_bytes()),
            "{self:?}"
        );
    }

    /// The [`Recorder`](crate::Recorder)'s own answer: the inner service answered, not the
    /// layer.
    pub fn assert_inner(&self) {
        self.assert_text(INNER);
    }
}

/// The `FAIL` acknowledgement the layer answers a refusal with, byte for byte: the reason as
/// `ErrorInfo`, the status as `ErrorCode`, in Tencent's field order.
pub fn fail_json(status: StatusCode, reason: &str) -> String {
    format!(
        r#"{{"ActionStatus":"FAIL","ErrorInfo":{},"ErrorCode":{}}}"#,
        serde_json::to_string(reason).unwrap(),
        status.as_u16()
    )
}
