//! The campaigns HTTP Lambda function: runs started over HTTP, the communication log, and the
//! public unsubscribe link — the same routers `fanloop serve` runs.

use std::sync::Arc;

use fanloop_engine::aws::campaigns_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use fanloop_http::{AppState, assemble};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogTarget::Stdout);
    let campaigns = Arc::new(campaigns_from_env().await?);
    let state = AppState::new(campaigns.store.clone(), campaigns.clock.clone());
    let (router, _) = assemble(
        fanloop_campaigns::routes(campaigns.clone()),
        fanloop_campaigns::public_routes(campaigns),
        state,
    );
    lambda_http::run(router).await
}
