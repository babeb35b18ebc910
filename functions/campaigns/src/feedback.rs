//! The `feedback` function: SES events of the configuration set every send uses, delivered by
//! EventBridge (one event per invocation) or SNS (`Records`). Each is applied for the tenant its
//! mail's tags name: suppression state of each recipient, news on the message. An event that
//! is not one Fanloop acts on, or names no tenant (a mail not sent by Fanloop), is logged and
//! dropped; a store failure fails the invocation so EventBridge (retries, then its
//! dead-letter queue) or SNS delivers it again — applying an event twice changes nothing.

use fanloop_domain::deliverability::parse_event;
use fanloop_domain::ports::{Store, StoreError};
use fanloop_engine::suppression::apply_feedback;
use serde_json::Value;

/// What one invocation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedbackReport {
    pub applied: usize,
    pub suppressed: usize,
    pub ignored: usize,
}

/// Retryable: the store failed (the event comes back).
#[derive(Debug, thiserror::Error)]
#[error("feedback not recorded: {0}")]
pub struct FeedbackError(#[from] StoreError);

pub async fn handle_feedback(
    store: &dyn Store,
    event: Value,
) -> Result<FeedbackReport, FeedbackError> {
    let items: Vec<Value> = match event.get("Records").and_then(Value::as_array) {
        Some(records) => records.clone(),
        None => vec![event],
    };
    let mut report = FeedbackReport::default();
    for item in &items {
        let parsed = match parse_event(item) {
            Ok(Some(e)) => e,
            Ok(None) => {
                report.ignored += 1;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "feedback event dropped");
                report.ignored += 1;
                continue;
            }
        };
        let Some(tenant) = parsed.mail.as_ref().map(|m| m.tenant.clone()) else {
            tracing::warn!("feedback event without Fanloop's tags dropped");
            report.ignored += 1;
            continue;
        };
        let out = apply_feedback(store, &tenant, &parsed).await?;
        tracing::info!(tenant = %tenant, kind = ?parsed.kind, suppressed = out.suppressed,
            message_updated = out.message_updated, "feedback applied");
        report.applied += 1;
        report.suppressed += out.suppressed;
    }
    Ok(report)
}
