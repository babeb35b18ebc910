//! The SQS-triggered broadcast sender (`ReportBatchItemFailures` on the event source mapping):
//! sends the batches the hourly planner queued, paced at `FANLOOP_SEND_RATE`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use fanloop_campaigns::broadcasts::handle_broadcasts;
use fanloop_engine::aws::campaigns_from_env;
use fanloop_http::telemetry::{LogTarget, init};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogTarget::Stdout);
    let mut campaigns = campaigns_from_env().await?;
    // A sender sends: it never queues.
    campaigns.queue = None;
    let campaigns = &campaigns;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, lambda_runtime::Error>(
            handle_broadcasts(campaigns, event.payload).await,
        )
    }))
    .await
}
