//! Tower middleware for Tencent Cloud IM's `Group.CallbackAfterRecallMsg` callback.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
#![deny(missing_docs, unreachable_pub, unsafe_code)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

mod body;
mod future;
mod layer;
mod mode;
mod policy;
mod protocol;
mod service;

pub use body::{RequestBody, ResponseBody};
pub use future::ResponseFuture;
pub use layer::RecallLayer;
pub use mode::{Acknowledge, Forward, HandlerFn, Mode};
pub use protocol::ack::{Ack, ActionStatus};
pub use protocol::event::{
    GroupType, Platform, RecallEvent, RecalledMessage, SdkAppId, UnixMillis,
};
pub use protocol::query::RECALL_COMMAND;
pub use protocol::signature::sign;
pub use service::Recall;
