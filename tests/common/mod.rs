//! What the integration tests share: the callbacks Tencent documents and the events the layer
//! must make of them ([`fixtures`]), scripted request bodies ([`bodies`]), a server on
//! 127.0.0.1 port 0 that counts its connections and is stopped by the test ([`server`]), a
//! real HTTP/1.1 client over one socket and the checks of what comes back ([`client`]).
//!
//! Every wait is bounded by [`within`]: a test fails instead of hanging.

// Each test binary compiles this module on its own and uses the part it needs: what one binary
// leaves unused is dead code there, though another uses it.
#![allow(dead_code)]

pub mod bodies;
pub mod client;
pub mod fixtures;
pub mod server;

use std::future::Future;
use std::time::Duration;

/// Bounds a wait: a test fails instead of hanging. Generous, as a guard against hangs and not a
/// measure of speed: the machine may be shared and busy.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}
