//! One job attempt on an executor thread: its context, inbox, log and lifecycle.

mod attempt_result;
mod context;
mod control;
mod lifecycle;
mod logger;

pub(crate) use attempt_result::{AttemptResult, AttemptStatus};
pub(crate) use context::{JobContext, RunShared};
pub(crate) use control::{JobControl, JobSignal};
pub(crate) use lifecycle::execute;
pub(crate) use logger::JobLogger;
