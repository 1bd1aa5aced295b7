//! What Tencent sends and expects: the callback URL's query, the signature, the JSON body and
//! the acknowledgement. Nothing here knows about tower; the plumbing lives beside this module.

pub(crate) mod ack;
pub(crate) mod event;
pub(crate) mod query;
pub(crate) mod rejection;
pub(crate) mod signature;
mod urlencoded;
