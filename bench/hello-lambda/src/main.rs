//! The smallest useful Lambda function: answers each event with the event itself. The functions'
//! init time, memory and size are compared with this (`scripts/bench-lambda`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
