//! The surveys HTTP Lambda function: the same router `fanloop serve` runs, on API Gateway.

use std::sync::Arc;

use fanloop_engine::aws::campaigns_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use fanloop_http::{AppState, assemble};
use utoipa_axum::router::OpenApiRouter;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogTarget::Stdout);
    // Recovery mails go through the campaigns' mailer: same configuration.
    let campaigns = Arc::new(campaigns_from_env().await?);
    let state = AppState::new(campaigns.store.clone(), campaigns.clock.clone());
    let (router, _) = assemble(
        fanloop_surveys::routes(campaigns),
        OpenApiRouter::new(),
        state,
    );
    lambda_http::run(router).await
}
