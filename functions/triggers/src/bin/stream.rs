//! The stream-triggered Lambda function (`ReportBatchItemFailures`, a dead-letter queue on the
//! event source mapping).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use fanloop_engine::aws::campaigns_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogTarget::Stdout);
    let campaigns = campaigns_from_env().await?;
    let campaigns = &campaigns;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<DynamoDbEventResponse, lambda_runtime::Error>(
            fanloop_triggers::handle_stream(campaigns, event.payload).await,
        )
    }))
    .await
}
