//! The scheduled campaigns Lambda function: EventBridge Scheduler sends `{"kind": "birthday"}`
//! hourly and `{"kind": "winback"}` daily; each event runs that campaign for every tenant.

use fanloop_campaigns::aws::handle_scheduled;
use fanloop_engine::aws::campaigns_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogTarget::Stdout);
    let campaigns = campaigns_from_env().await?;
    let campaigns = &campaigns;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_scheduled(campaigns, event.payload).await
    }))
    .await
}
