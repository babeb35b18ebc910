//! The daily analytics snapshot: one pass over a tenant's customers folded into the counts that
//! need every customer (tiers, lifecycle stages, RFM segments, churn traits), and the
//! lifecycle moves since the previous pass, each written with the customer's new segments (the
//! tier, stage and RFM segment staff list customers by) so a rerun counts nothing twice. Run by the campaigns schedule on AWS, the in-process scheduler
//! locally, or `POST /v1/analytics/snapshots`.

use fanloop_domain::TenantId;
use fanloop_domain::analytics::{Snapshot, SnapshotBuilder};
use fanloop_domain::ports::{AnalyticsStore, StoreError};
use fanloop_domain::settings::TenantSettings;
use jiff::Timestamp;

/// Customers read per page.
const PAGE: usize = 500;

/// Takes and stores the tenant's snapshot as of `now` (a rerun the same day replaces it).
pub async fn take(
    store: &dyn AnalyticsStore,
    tenant: &TenantId,
    settings: &TenantSettings,
    now: Timestamp,
) -> Result<Snapshot, StoreError> {
    let mut builder = SnapshotBuilder::new(settings, now);
    let mut cursor = None;
    let mut moved = 0u64;
    loop {
        let (batch, next) = store.snapshot_customers(tenant, cursor, PAGE).await?;
        for c in batch {
            let segments = builder.add(&c.profile, &c.account, c.nps_answered);
            if c.segments != segments {
                let counters = builder.stage_move(
                    c.segments.lifecycle.as_deref(),
                    segments.lifecycle.as_deref(),
                );
                let id = &c.profile.customer_id;
                if store
                    .move_segments(tenant, id, &c.segments, &segments, &counters)
                    .await?
                    && !counters.is_empty()
                {
                    moved += 1;
                }
            }
        }
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    let snapshot = builder.finish();
    store.put_snapshot(tenant, &snapshot).await?;
    tracing::info!(tenant = %tenant, customers = snapshot.customers, moved, "analytics snapshot taken");
    Ok(snapshot)
}
