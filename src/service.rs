//! The [`Recall`] middleware service.

use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::body::{RequestBody, ResponseBody};
use crate::body_buffer::BodyBuffer;
use crate::future::{Job, Next, ResponseFuture};
use crate::mode::{Forward, Mode};
use crate::policy::{Admitted, Policy};
use crate::protocol::context::CallbackContext;
use crate::protocol::query::CallbackQuery;
use crate::protocol::recall_kind::RecallKind;
use crate::trace::CallbackSpan;
use crate::verified::VerifiedCallback;

/// Middleware that receives Tencent Cloud IM's recall callbacks in front of an inner service.
///
/// Made by [`RecallLayer`](crate::RecallLayer)'s `Layer::layer`; see the
/// [crate documentation](crate#what-the-layer-answers) for what it answers when.
#[derive(Debug, Clone)]
pub struct Recall<S, M = Forward> {
    inner: S,
    policy: Arc<Policy>,
    mode: M,
}

impl<S, M> Recall<S, M> {
    pub(crate) fn new(inner: S, policy: Arc<Policy>, mode: M) -> Self {
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

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let policy = &self.policy;
        let Some(scanned) =
            CallbackQuery::scan(request.uri().query(), policy.recalls, policy.guard)
        else {
            return self.pass(request);
        };
        let span = CallbackSpan::new(&scanned);
        let hint = request.body().size_hint();
        match policy.admit(&scanned, request.method(), request.headers(), &hint) {
            Err(rejection) => {
                span.refused(&rejection);
                ResponseFuture::reject(rejection)
            }
            Ok(Admitted::Other { command, context }) => {
                // Another command, verified: on to the inner service, body untouched.
                span.passed(command);
                let verified = VerifiedCallback::new(command, context);
                request.extensions_mut().insert(verified);
                self.pass(request)
            }
            Ok(Admitted::Recall {
                kind,
                context,
                expected,
            }) => self.collect(request, kind, context, expected, span),
        }
    }
}

impl<S, M: Mode> Recall<S, M> {
    /// Passes `request` on to the inner service, its body streamed untouched.
    fn pass<ReqBody, ResBody>(&mut self, request: Request<ReqBody>) -> ResponseFuture<S, ReqBody, M>
    where
        S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
        ReqBody: Body<Data = Bytes>,
    {
        ResponseFuture::inner(self.inner.call(request.map(RequestBody::streaming)))
    }

    /// Reads the body of a recall of `kind`, then hands it on as the mode says.
    fn collect<ReqBody, ResBody>(
        &mut self,
        request: Request<ReqBody>,
        kind: RecallKind,
        context: CallbackContext,
        expected: u64,
        span: CallbackSpan,
    ) -> ResponseFuture<S, ReqBody, M>
    where
        S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
        ReqBody: Body<Data = Bytes>,
    {
        let next = match self.mode.handler() {
            Some(handler) => Next::Acknowledge(handler),
            None => {
                // The body is read before the inner service is called: keep the service that
                // `poll_ready` made ready for this request, and leave a fresh clone in its place.
                let clone = self.inner.clone();
                Next::Forward(mem::replace(&mut self.inner, clone))
            }
        };
        let (parts, body) = request.into_parts();
        let buffer = BodyBuffer::new(self.policy.body_limit, expected);
        let job = Job {
            parts,
            kind,
            window_end: self.policy.window_end(&context),
            clock: self.policy.clock.clone(),
            max_messages: self.policy.max_messages,
            context,
            next,
            span,
        };
        ResponseFuture::collect(body, buffer, job)
    }
}
