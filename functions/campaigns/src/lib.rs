//! The campaigns function: the birthday and win-back runs (scheduled by EventBridge Scheduler
//! on AWS, by the in-process scheduler of `fanloop serve` locally, or started over HTTP), the
//! communication log and the unsubscribe link. One library; `main.rs` (scheduled events) and
//! `bin/api.rs` (HTTP) are thin.

#[cfg(feature = "lambda")]
pub mod aws;
pub mod definitions;
pub mod http;
pub mod pacer;
pub mod runner;
pub mod snapshot;

pub use http::{public_routes, routes};
pub use pacer::Pacer;
pub use runner::{Campaigns, RecoveryOutcome, RunError};
