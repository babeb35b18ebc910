//! The campaign engine: one runner for every campaign — the scheduled runs, the recovery mail
//! of the surveys function, and the tenant-defined campaigns — and the daily analytics
//! snapshot. Shared by the functions that send (campaigns, surveys) and by `fanloop serve`;
//! no function depends on another.

#[cfg(feature = "aws")]
pub mod aws;
mod defined;
mod expiring;
pub mod fanout;
pub mod items;
mod job;
pub mod pacer;
mod periodic;
pub mod runner;
pub mod snapshot;
#[cfg(feature = "aws")]
pub mod sqs;
pub mod suppression;
mod triggered;
mod worker;

pub use fanout::{SendBatch, SendQueue};
pub use pacer::Pacer;
pub use runner::{Campaigns, RecoveryOutcome, RunError};
pub use triggered::TriggerReport;
pub use worker::{TRIGGER_LEASE, drain_outbox};
