//! The SES feedback function (EventBridge rule on the configuration set's events, or SNS):
//! bounces, complaints, deliveries and rejects onto the suppression list and the messages.

use fanloop_campaigns::feedback::handle_feedback;
use fanloop_engine::aws::store_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogTarget::Stdout);
    let store = store_from_env().await?;
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_feedback(store, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
