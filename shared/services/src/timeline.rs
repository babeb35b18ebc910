//! The customer's timeline as a use case: one page from each source, merged newest first.

use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::timeline::{self, TimelineCursor, TimelineItem};
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;

/// A page of the timeline from `at`, and where the next starts (none: the last page).
pub async fn page(
    store: &dyn Store,
    tenant: &TenantId,
    customer: &CustomerId,
    at: &TimelineCursor,
    limit: usize,
    now: Timestamp,
) -> Result<(Vec<TimelineItem>, Option<TimelineCursor>), StoreError> {
    let (responses, followups) = store.customer_surveys(tenant, customer).await?;
    let sources = timeline::Sources {
        ledger: store
            .ledger(tenant, customer, at.ledger_before, limit)
            .await?,
        events: store
            .events(tenant, customer, at.events_before.as_deref(), limit, now)
            .await?,
        messages: store.messages(tenant, customer).await?,
        responses,
        followups,
        contacts: store
            .contacts(tenant, customer, at.contacts_before.as_deref(), limit)
            .await?,
    };
    Ok(timeline::page(sources, at, limit))
}
