//! What Tencent sends and expects: the callback URL's query, the signature, the JSON body and
//! the acknowledgement, each in the file named after it. Nothing here knows about tower; the
//! plumbing lives beside this module.

pub(crate) mod ack;
pub(crate) mod app;
pub(crate) mod command;
pub(crate) mod context;
pub(crate) mod digits;
pub(crate) mod event;
pub(crate) mod group_type;
mod json;
pub(crate) mod millis;
mod open_enum;
pub(crate) mod platform;
pub(crate) mod query;
pub(crate) mod rejection;
pub(crate) mod signature;
mod urlencoded;
