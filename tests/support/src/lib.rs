//! What tower-tim-recall's own tests, benchmarks and fuzz targets share, each thing once:
//!
//! - [`fixtures`]: Tencent's documented callback (query, body, signature vector) and what the
//!   layer must make of it;
//! - [`requests`]: callback requests as Tencent sends them, and the URLs the benchmarks use;
//! - [`bodies`]: request bodies that arrive in scripted frames, fail, stall, or must never be
//!   read; [`bodies_by_hand`]: the recall bodies as a hand-written receiver declares them;
//! - [`Recorder`]: an inner service that records what reached it, and [`send`], [`refused`] and
//!   [`accepted`]: one request through a layer in front of it, and the checks of the outcome;
//! - [`Answer`]: an answer read whole, and the one check of each kind of answer;
//! - [`alloc`]: an allocator that counts, and [`trivial`], an inner service that allocates
//!   nothing, for the allocation tests and the benchmarks;
//! - [`complete`]: a future driven to its end on this thread, without a runtime;
//! - [`sign_text`]: Tencent's signature of any `RequestTime` text, written independently of the
//!   crate; [`closed_within`]: whether a server closed a plain socket in time;
//! - with the `net` feature, [`net`]: a server on 127.0.0.1 port 0 and a client over one socket;
//! - with the `redis-server` feature, [`redis_server`]: a `redis-server` of the test's own, to
//!   kill, pause and restart.
//!
//! Not published: the crate's tests, the benchmark package and the fuzz targets depend on it
//! by path.

pub mod alloc;
mod answer;
pub mod bodies;
pub mod bodies_by_hand;
pub mod fixtures;
#[cfg(feature = "net")]
pub mod net;
mod oneshot;
mod poll;
mod recorder;
#[cfg(feature = "redis-server")]
pub mod redis_server;
pub mod requests;
mod sign;
mod socket;
mod trivial;

pub use answer::{fail_json, Answer};
pub use oneshot::{accepted, refused, refused_unread, send, streamed};
pub use poll::{complete, poll_once};
pub use recorder::Recorder;
pub use sign::sign_text;
pub use socket::closed_within;
pub use trivial::trivial;
