//! The triggers function: the table's DynamoDB Stream (INSERTs of trigger items and of new
//! profiles, filtered by the event source mapping) handed to the engine. Delivery is at least
//! once and a batch may come again; the send markers make each mail go once. A record that
//! fails is reported as a batch item failure (`ReportBatchItemFailures`): Lambda retries from
//! it, and after the mapping's retries it goes to the dead-letter queue. A record whose send
//! waits for quiet hours is parked for the hourly run.

use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_engine::Campaigns;
use fanloop_store_dynamodb::triggers::trigger_from_image;

/// Handles one batch of stream records, in order; stops at the first failure (Lambda retries
/// the batch from it, so the later ones come again too).
pub async fn handle_stream(campaigns: &Campaigns, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let id = record.change.sequence_number.clone();
        let failed = || {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = id.clone();
            f
        };
        if record.event_name != "INSERT" {
            continue;
        }
        let image: HashMap<String, AttributeValue> = record.change.new_image.into();
        let (tenant, trigger) = match trigger_from_image(&image) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                // A record that cannot be read will not read better on a retry: logged and
                // skipped, so it does not hold back the shard.
                tracing::error!(error = %e, "unreadable stream record skipped");
                continue;
            }
        };
        match campaigns.handle_trigger(&tenant, &trigger).await {
            Ok(report) => {
                if let Some(at) = report.retry_at
                    && let Err(e) = campaigns.park_trigger(&tenant, &trigger, at).await
                {
                    tracing::error!(tenant = %tenant, error = %e, "parking a trigger failed");
                    response.batch_item_failures.push(failed());
                    return response;
                }
            }
            Err(e) => {
                tracing::error!(tenant = %tenant, trigger = trigger.event.kind(), error = %e, "trigger failed; the batch is retried from it");
                response.batch_item_failures.push(failed());
                return response;
            }
        }
    }
    response
}
