//! The SQS-triggered surveys Lambda function (`ReportBatchItemFailures` on the event source
//! mapping): bulk and bursty response sources.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use fanloop_engine::aws::campaigns_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogTarget::Stdout);
    let campaigns = Arc::new(campaigns_from_env().await?);
    let campaigns = &campaigns;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, lambda_runtime::Error>(
            fanloop_surveys::handle_sqs(campaigns, event.payload).await,
        )
    }))
    .await
}
