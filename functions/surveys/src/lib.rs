//! The surveys function: responses over HTTP (one or a batch) and from SQS (bulk or bursty
//! sources), NPS/CSAT summaries from sharded daily counters, and follow-up cases for unhappy
//! answers. One library; `fanloop serve` merges the router, Lambda runs `surveys-api` and
//! `surveys-queue`.

mod cases;
pub mod http;
#[cfg(feature = "lambda")]
pub mod queue;
pub mod service;

pub use http::routes;
#[cfg(feature = "lambda")]
pub use queue::handle_sqs;
