//! The console Lambda function: the same pages `fanloop serve` serves under `/console`, on
//! API Gateway, on the DynamoDB store.

use std::sync::Arc;

use fanloop_domain::SystemClock;
use fanloop_http::AppState;
use fanloop_http::telemetry::{LogTarget, init};
use fanloop_store_dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogTarget::Stdout);
    let table = std::env::var("FANLOOP_TABLE").map_err(|_| "FANLOOP_TABLE is not set")?;
    let public_url = std::env::var("FANLOOP_PUBLIC_URL").unwrap_or_else(|_| "https://".into());
    let store = DynamoStore::connect(table, std::env::var("FANLOOP_DYNAMODB_ENDPOINT").ok()).await;
    let state = AppState::new(Arc::new(store), Arc::new(SystemClock));
    let router = fanloop_console::router(fanloop_console::Console::new(state, &public_url));
    lambda_http::run(router).await
}
