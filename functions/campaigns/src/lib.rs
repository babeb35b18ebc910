//! The campaigns function: the birthday and win-back runs (scheduled by EventBridge Scheduler
//! on AWS, by the in-process scheduler of `fanloop serve` locally, or started over HTTP), the
//! campaign definitions, the communication log and the unsubscribe link. The engine that sends
//! is `fanloop-engine`; `main.rs` (scheduled events) and `bin/api.rs` (HTTP) are thin.

#[cfg(feature = "lambda")]
pub mod aws;
#[cfg(feature = "lambda")]
pub mod broadcasts;
pub mod definitions;
#[cfg(feature = "lambda")]
pub mod feedback;
pub mod http;
pub mod report;
pub mod suppressions;

pub use fanloop_engine::{Campaigns, Pacer, RecoveryOutcome, RunError};
pub use http::{public_routes, routes};
