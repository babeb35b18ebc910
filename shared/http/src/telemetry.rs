//! Structured logs: JSON lines, level from `RUST_LOG` (default `info`). Request logs carry the
//! route template (`/v1/customers/{customer_id}`), never the concrete path, so no customer id,
//! e-mail or token reaches a log line.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing_subscriber::EnvFilter;

pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the JSON subscriber once; later calls are no-ops.
pub fn init(target: LogTarget) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false);
    let _ = match target {
        LogTarget::Stdout => builder.with_writer(std::io::stdout).try_init(),
        LogTarget::Stderr => builder.with_writer(std::io::stderr).try_init(),
    };
}

pub async fn log_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".into());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(%method, %route, status, ms, "request");
    } else {
        tracing::info!(%method, %route, status, ms, "request");
    }
    res
}
