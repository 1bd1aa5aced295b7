//! What Tencent sends and expects: the callback URL's query, the signature, the JSON bodies of
//! the three recall callbacks and the acknowledgement, each in the file named after it. Nothing
//! here knows about tower; the plumbing lives beside this module.

#[macro_use]
mod kind_fields;

pub(crate) mod ack;
pub(crate) mod app;
pub(crate) mod body_command;
pub(crate) mod body_error;
mod body_shape;
pub(crate) mod context;
pub(crate) mod dedup;
pub(crate) mod digits;
pub(crate) mod event;
pub(crate) mod group;
pub(crate) mod group_type;
pub(crate) mod millis;
pub(crate) mod official_account;
pub(crate) mod one_to_one;
mod open_enum;
pub(crate) mod platform;
pub(crate) mod query;
pub(crate) mod recall_kind;
pub(crate) mod rejection;
pub(crate) mod signature;
mod urlencoded;
