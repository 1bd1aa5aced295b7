//! The response future of [`Recall`](crate::Recall).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::accepted::AcceptedRecall;
use crate::body::{RequestBody, ResponseBody};
use crate::body_buffer::BodyBuffer;
use crate::clock::Clock;
use crate::handler::HandlerFailure;
use crate::mode::Mode;
use crate::protocol::ack::{json_response, Ack};
use crate::protocol::body_error::BodyError;
use crate::protocol::context::CallbackContext;
use crate::protocol::event::RecallEvent;
use crate::protocol::recall_kind::RecallKind;
use crate::protocol::rejection::Rejection;
use crate::trace::CallbackSpan;

/// How many body frames one poll reads before it yields, so that a body that is always ready
/// with tiny or empty frames cannot hold the executor.
const FRAMES_PER_POLL: usize = 64;

pin_project! {
    /// Response future of [`Recall`](crate::Recall).
    ///
    /// It calls the inner service for a request that is not a recall callback, answers a refused
    /// callback, or reads and parses an accepted callback's body and then forwards it or hands
    /// it to the handler. No allocation of its own beyond the body and the event.
    pub struct ResponseFuture<S, ReqBody, M>
    where
        S: Service<Request<RequestBody<ReqBody>>>,
        M: Mode,
    {
        #[pin]
        state: State<S, ReqBody, M>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, M>
    where
        S: Service<Request<RequestBody<ReqBody>>>,
        M: Mode,
    {
        // The inner service answers.
        Inner { #[pin] future: S::Future },
        // The layer answers, without calling anything.
        Answer { answer: Option<(StatusCode, Bytes)> },
        // Reading an accepted callback's body.
        Collecting {
            #[pin]
            body: ReqBody,
            collected: Option<BodyBuffer>,
            job: Option<Job<S, M::Handler>>,
        },
        // Acknowledge mode: the handler has the event.
        Handling { #[pin] future: M::Future, span: CallbackSpan },
    }
}

/// What to do with a callback once its body is read.
pub(crate) struct Job<S, H> {
    pub(crate) parts: Parts,
    pub(crate) kind: RecallKind,
    pub(crate) context: CallbackContext,
    /// For a signed recall, the window's end ([`Policy::window_end`]): its body must be
    /// complete by then, by `clock`.
    ///
    /// [`Policy::window_end`]: crate::policy::Policy::window_end
    pub(crate) window_end: Option<u64>,
    pub(crate) clock: Clock,
    /// The most messages the event may name ([`RecallLayerBuilder::max_messages`]).
    ///
    /// [`RecallLayerBuilder::max_messages`]: crate::RecallLayerBuilder::max_messages
    pub(crate) max_messages: Option<usize>,
    pub(crate) next: Next<S, H>,
    pub(crate) span: CallbackSpan,
}

/// Who receives an accepted callback.
pub(crate) enum Next<S, H> {
    /// The inner service, already ready.
    Forward(S),
    /// The acknowledge-mode handler.
    Acknowledge(H),
}

impl<S, ReqBody, M> ResponseFuture<S, ReqBody, M>
where
    S: Service<Request<RequestBody<ReqBody>>>,
    M: Mode,
{
    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn reject(rejection: Rejection) -> Self {
        Self {
            state: State::Answer {
                answer: Some(rejection.into_answer()),
            },
        }
    }

    pub(crate) fn collect(body: ReqBody, collected: BodyBuffer, job: Job<S, M::Handler>) -> Self {
        Self {
            state: State::Collecting {
                body,
                collected: Some(collected),
                job: Some(job),
            },
        }
    }
}

/// Shows which step the future is at, and nothing of the request: neither its query (which may
/// carry a `Sign`), nor its body, nor the event.
impl<S, ReqBody, M> fmt::Debug for ResponseFuture<S, ReqBody, M>
where
    S: Service<Request<RequestBody<ReqBody>>>,
    M: Mode,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match &self.state {
            State::Inner { .. } => "inner service",
            State::Answer { .. } => "answer",
            State::Collecting { .. } => "reading the body",
            State::Handling { .. } => "handler",
        };
        f.debug_struct("ResponseFuture")
            .field("step", &step)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody, M> Future for ResponseFuture<S, ReqBody, M>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    ReqBody: Body<Data = Bytes>,
    M: Mode,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut state = self.as_mut().project().state;
            let next = match state.as_mut().project() {
                StateProj::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProj::Answer { answer } => {
                    let (status, json) = answer.take().expect("polled after completion");
                    return Poll::Ready(Ok(json_response(status, ResponseBody::ack(json))));
                }
                StateProj::Handling { future, span } => State::Answer {
                    answer: Some(answer_for(ready!(future.poll(cx)), span)),
                },
                StateProj::Collecting {
                    mut body,
                    collected,
                    job,
                } => {
                    let buffer = collected.as_mut().expect("polled after completion");
                    let read = ready!(read_body(body.as_mut(), buffer, cx));
                    let bytes = collected
                        .take()
                        .map(BodyBuffer::into_bytes)
                        .unwrap_or_default();
                    let job = job.take().expect("polled after completion");
                    job.read(read, bytes)
                }
            };
            state.set(next);
        }
    }
}

impl<S, H> Job<S, H> {
    /// A signed recall's time window holds until its body is complete: a URL captured with its
    /// head is good for `max_age` after its `RequestTime`, however long its body takes.
    fn in_window(&self) -> Result<(), Rejection> {
        match self.window_end {
            Some(end) if self.clock.now_secs() > end => Err(Rejection::TIME_TOO_OLD),
            _ => Ok(()),
        }
    }

    /// The step after the body: its parse refused, or the event forwarded to the inner service
    /// with the bytes read, or handed to the handler.
    fn read<ReqBody, M>(self, read: Result<(), Rejection>, bytes: Bytes) -> State<S, ReqBody, M>
    where
        S: Service<Request<RequestBody<ReqBody>>>,
        M: Mode<Handler = H>,
    {
        let max_messages = self.max_messages;
        let parsed = read
            .and_then(|()| self.in_window())
            .and_then(|()| {
                RecallEvent::parse(self.kind, &bytes, self.context)
                    .map_err(BodyError::into_rejection)
            })
            .and_then(|event| within_messages(max_messages, event));
        let event = match parsed {
            Ok(event) => event,
            Err(rejection) => {
                self.span.refused(&rejection);
                return State::Answer {
                    answer: Some(rejection.into_answer()),
                };
            }
        };
        self.span.parsed(&event);
        match self.next {
            Next::Forward(mut inner) => {
                self.span.forwarded();
                let mut parts = self.parts;
                parts.extensions.insert(event);
                let request = Request::from_parts(parts, RequestBody::buffered(bytes));
                State::Inner {
                    future: inner.call(request),
                }
            }
            Next::Acknowledge(handler) => State::Handling {
                future: M::handle(handler, AcceptedRecall::new(event, bytes)),
                span: self.span,
            },
        }
    }
}

/// The event, unless it names more messages than `max`.
fn within_messages(max: Option<usize>, event: RecallEvent) -> Result<RecallEvent, Rejection> {
    match max {
        Some(max) if event.dedup_keys().nth(max).is_some() => Err(Rejection::TOO_MANY_MESSAGES),
        _ => Ok(event),
    }
}

/// The layer's answer to what the acknowledge-mode handler did: `OK`, or 500 with the reason.
fn answer_for(
    handled: Result<(), crate::handler::BoxError>,
    span: &CallbackSpan,
) -> (StatusCode, Bytes) {
    match handled {
        Ok(()) => {
            span.acknowledged();
            (StatusCode::OK, Ack::ok().to_bytes())
        }
        Err(error) => {
            let failure = HandlerFailure::of(&error);
            span.failed(failure.reason());
            failure.into_answer()
        }
    }
}

/// Reads body frames into `buffer` until the body ends, fails or passes the limit.
fn read_body<B: Body<Data = Bytes>>(
    mut body: Pin<&mut B>,
    buffer: &mut BodyBuffer,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Rejection>> {
    for _ in 0..FRAMES_PER_POLL {
        match ready!(body.as_mut().poll_frame(cx)) {
            None => return Poll::Ready(Ok(())),
            Some(Err(_)) => return Poll::Ready(Err(Rejection::BODY_UNREADABLE)),
            Some(Ok(frame)) => {
                // Trailers carry nothing for this callback.
                if let Ok(data) = frame.into_data() {
                    if buffer.push(data).is_err() {
                        return Poll::Ready(Err(Rejection::TOO_LARGE));
                    }
                }
            }
        }
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}
