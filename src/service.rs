//! The [`Recall`] middleware service.

use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::body::{Collected, RequestBody, ResponseBody};
use crate::future::{Job, Next, ResponseFuture};
use crate::layer::RecallLayer;
use crate::mode::{Forward, Mode};
use crate::policy::Policy;
use crate::protocol::query::CallbackQuery;
use crate::protocol::rejection::Rejection;

/// Middleware that receives Tencent Cloud IM's `Group.CallbackAfterRecallMsg` callback in front
/// of an inner service.
///
/// Built by [`RecallLayer`]; see the [crate documentation](crate) for what it answers when.
#[derive(Debug, Clone)]
pub struct Recall<S, M = Forward> {
    inner: S,
    policy: Arc<Policy>,
    mode: M,
}

impl<S, M> Recall<S, M> {
    /// Wraps `inner` with the configuration of `layer`; the same as `layer.layer(inner)`.
    pub fn new(inner: S, layer: &RecallLayer<M>) -> Self
    where
        M: Clone,
    {
        tower_layer::Layer::layer(layer, inner)
    }

    pub(crate) fn from_parts(inner: S, policy: Arc<Policy>, mode: M) -> Self {
        Self {
            inner,
            policy,
            mode,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the middleware, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, M, ReqBody, ResBody> Service<Request<ReqBody>> for Recall<S, M>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
    ReqBody: Body<Data = Bytes>,
    M: Mode,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, M>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(query) = CallbackQuery::scan(request.uri().query()) else {
            return ResponseFuture::inner(self.inner.call(request.map(RequestBody::streaming)));
        };
        #[cfg(feature = "tracing")]
        let span = crate::trace::callback_span(&query);
        #[cfg(not(feature = "tracing"))]
        let span = ();
        let context = match self
            .policy
            .admit(request.method(), request.headers(), &query)
        {
            Ok(context) => context,
            Err(rejection) => {
                #[cfg(feature = "tracing")]
                crate::trace::refused(&span, &rejection);
                return ResponseFuture::reject(rejection);
            }
        };
        let limit = self.policy.body_limit;
        let (parts, body) = request.into_parts();
        let hint = body.size_hint();
        if hint.lower() > limit as u64 {
            #[cfg(feature = "tracing")]
            crate::trace::refused(&span, &Rejection::TOO_LARGE);
            return ResponseFuture::reject(Rejection::TOO_LARGE);
        }
        let next = match self.mode.handler() {
            Some(handler) => Next::Acknowledge(handler),
            None => {
                // The body is read before the inner service is called: keep the service that
                // `poll_ready` made ready for this request, and leave a fresh clone in its place.
                let clone = self.inner.clone();
                Next::Forward(mem::replace(&mut self.inner, clone))
            }
        };
        let expected = hint.exact().unwrap_or(hint.lower());
        let job = Job {
            parts,
            context,
            next,
            span,
        };
        ResponseFuture::collect(body, Collected::new(limit, expected), job)
    }
}

#[cfg(test)]
mod tests;
