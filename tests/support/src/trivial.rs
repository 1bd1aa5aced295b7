//! The inner service the measurements put behind the layer: it answers at once, touching
//! nothing and allocating nothing, so that what is measured is the layer's own work.

use std::convert::Infallible;
use std::future::{ready, Ready};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tower::{service_fn, Service};

use crate::fixtures::OK_JSON;

/// What [`trivial`] answers, at once.
pub type Answered = Ready<Result<Response<Full<Bytes>>, Infallible>>;

/// An inner service that answers every request at once with the `OK` acknowledgement as a
/// static body, without reading the request.
pub fn trivial<B>(
) -> impl Service<Request<B>, Response = Response<Full<Bytes>>, Error = Infallible, Future = Answered>
       + Clone {
    service_fn(|_request: Request<B>| {
        ready(Ok(Response::new(Full::new(Bytes::from_static(
            OK_JSON.as_bytes(),
        )))))
    })
}
