//! The broadcast senders on AWS: each SQS message is one planner batch ([`SendBatch`]: a
//! tenant, a campaign, the planner's moment and up to 100 customer ids). Its customers are
//! read again and claimed one by one (the markers make a redelivered or re-planned batch send
//! nobody twice), paced at the function's share of the SES rate. The answer lists partial
//! batch failures (`ReportBatchItemFailures`): a batch whose store or provider failed comes
//! back; one that can never succeed (not a batch, an unknown trigger) is listed too, so the
//! redrive policy moves it to the dead-letter queue after `maxReceiveCount` receives.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use fanloop_engine::{Campaigns, RunError, SendBatch};

pub async fn handle_broadcasts(campaigns: &Campaigns, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    // One batch at a time: the pacer, not concurrency, sets the rate.
    for (i, m) in event.records.into_iter().enumerate() {
        let id = m.message_id.clone().unwrap_or_else(|| format!("#{i}"));
        let batch: SendBatch = match serde_json::from_str(m.body.as_deref().unwrap_or("")) {
            Ok(b) => b,
            Err(e) => {
                // The body has ids only, but the error text may quote it: only its position.
                tracing::warn!(message_id = %id, line = e.line(), column = e.column(),
                    "broadcast message is not a batch; it goes to the dead-letter queue after maxReceiveCount");
                response.batch_item_failures.push(failure(id));
                continue;
            }
        };
        match campaigns.send_batch(&batch).await {
            Ok(report) => tracing::info!(message_id = %id, tenant = %batch.tenant,
                campaign = %batch.campaign_id, sent = report.sent, "broadcast batch sent"),
            Err(e) => {
                let permanent = matches!(e, RunError::NotRunnable(_));
                tracing::warn!(message_id = %id, tenant = %batch.tenant, campaign = %batch.campaign_id,
                    error = %e, permanent, "broadcast batch failed; it comes back");
                response.batch_item_failures.push(failure(id));
            }
        }
    }
    response
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}
