//! The points Lambda function: the same router `fanloop serve` runs, on API Gateway.

use std::sync::Arc;

use fanloop_domain::SystemClock;
use fanloop_http::telemetry::{LogTarget, init};
use fanloop_http::{AppState, assemble};
use fanloop_store_dynamodb::DynamoStore;
use utoipa_axum::router::OpenApiRouter;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogTarget::Stdout);
    let table = std::env::var("FANLOOP_TABLE").map_err(|_| "FANLOOP_TABLE is not set")?;
    let store = DynamoStore::connect(table, std::env::var("FANLOOP_DYNAMODB_ENDPOINT").ok()).await;
    let state = AppState::new(Arc::new(store), Arc::new(SystemClock));
    let (router, _) = assemble(fanloop_points::routes(), OpenApiRouter::new(), state);
    lambda_http::run(router).await
}
