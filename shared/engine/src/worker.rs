//! The local trigger worker (`fanloop serve`): leases due records from the SQLite outbox,
//! handles each, and removes it (a send that waits for quiet hours is parked for the hourly
//! run first); one whose handling failed stays leased and is taken again when its lease runs
//! out.

use fanloop_domain::ports::TriggerOutbox;
use jiff::SignedDuration;

use crate::{Campaigns, RunError};

/// A leased record not finished within this time is taken again (the worker crashed).
pub const TRIGGER_LEASE: SignedDuration = SignedDuration::from_mins(5);

/// Records leased at a time.
const BATCH: usize = 64;

/// Handles every record due now; returns how many were handled (sent, skipped or deferred).
pub async fn drain_outbox(
    campaigns: &Campaigns,
    outbox: &dyn TriggerOutbox,
) -> Result<usize, RunError> {
    let mut handled = 0;
    loop {
        let now = campaigns.clock.now();
        let batch = outbox.lease_triggers(now, TRIGGER_LEASE, BATCH).await?;
        if batch.is_empty() {
            return Ok(handled);
        }
        for (tenant, record) in batch {
            match campaigns.handle_trigger(&tenant, &record).await {
                Ok(report) => {
                    if let Some(at) = report.retry_at {
                        campaigns.park_trigger(&tenant, &record, at).await?;
                    }
                    outbox
                        .finish_trigger(&tenant, &record.customer_id, &record.id)
                        .await?;
                    handled += 1;
                }
                Err(e) => {
                    // Left leased: taken again when the lease runs out.
                    tracing::error!(tenant = %tenant, trigger = record.event.kind(), error = %e, "trigger failed; retried after its lease");
                }
            }
        }
    }
}
