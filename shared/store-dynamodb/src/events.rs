//! Behaviour events: items of the customer's partition, `sk = EVENT#{event_id}`, with
//! `lsi1sk = E#{sort key}` so the `by-seq` index reads them newest first (the ledger uses the
//! `L#` range of the same index), and `expires_at` in epoch seconds for the table's TTL.
//!
//! Recording is one transaction — the customer must exist (condition check) and the event must
//! be new (conditional put) — then the last-activity update, which only moves forward: a retry
//! that finds the event repeats that update, so an interruption between the two is repaired by
//! the client's retry.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use fanloop_domain::analytics::Counters;
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::events::{BehaviourEvent, StoredEvent};
use fanloop_domain::ports::{EventRecorded, EventStore, ProfileStore, RecordError, StoreError};
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;

use crate::item::{Item, av_s, get_n, get_s};
use crate::points::corrupt;
use crate::{DynamoStore, build_err, cancelled_conditions, key, profile_pk, sdk_err};

fn event_sk(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}

pub(crate) fn item_to_event(item: &Item) -> Result<BehaviourEvent, StoreError> {
    serde_json::from_str(get_s(item, "event").unwrap_or_default()).map_err(|e| corrupt("event", e))
}

fn item_to_stored(item: &Item) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        event: item_to_event(item)?,
        fingerprint: get_s(item, "fingerprint").unwrap_or_default().to_owned(),
    })
}

impl DynamoStore {
    fn event_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        e: &StoredEvent,
    ) -> Result<Item, StoreError> {
        let mut item = key(
            profile_pk(tenant, customer),
            &event_sk(e.event.event_id.as_str()),
        );
        let doc = serde_json::to_string(&e.event).map_err(|err| corrupt("event", err))?;
        item.insert("event".into(), av_s(doc));
        item.insert("fingerprint".into(), av_s(e.fingerprint.clone()));
        item.insert("lsi1sk".into(), av_s(format!("E#{}", e.event.sort_key())));
        item.insert(
            "expires_at".into(),
            AttributeValue::N(e.event.expires_at.as_second().to_string()),
        );
        Ok(item)
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn record_event(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        event: &StoredEvent,
        activity: Activity,
        counters: &Counters,
    ) -> Result<EventRecorded, RecordError> {
        let pk = profile_pk(tenant, customer);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), "PROFILE")))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            self.put(
                self.event_item(tenant, customer, event)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        // Counted with the event, once: a duplicate fails the put and cancels them too.
        items.extend(self.counter_updates(tenant, customer, counters)?);
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let (outcome, activity) = match res {
            Ok(_) => (EventRecorded::Created, activity),
            Err(e) => {
                let Some(failed) = cancelled_conditions(&e) else {
                    return Err(RecordError::Store(sdk_err(e)));
                };
                if failed.first().copied().unwrap_or(false) {
                    return Err(RecordError::UnknownCustomer);
                }
                if !failed.get(1).copied().unwrap_or(false) {
                    return Err(StoreError::Conflict.into());
                }
                let sk = event_sk(event.event.event_id.as_str());
                let earlier = match self.get(pk, &sk).await? {
                    Some(item) => item_to_stored(&item)?,
                    None => return Err(StoreError::Conflict.into()),
                };
                if earlier.fingerprint != event.fingerprint {
                    // Another request under the same id: refused, nothing to repair.
                    return Ok(EventRecorded::Duplicate(earlier));
                }
                // A retry: make good the activity of the event as first recorded.
                let first = activity.retimed(
                    earlier.event.occurred_at.min(earlier.event.recorded_at),
                    earlier.event.recorded_at,
                );
                (EventRecorded::Duplicate(earlier), first)
            }
        };
        if !self.record_activity(tenant, customer, activity).await? {
            return Err(RecordError::UnknownCustomer);
        }
        Ok(outcome)
    }

    async fn events(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&str>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<BehaviourEvent>, StoreError> {
        // `~` sorts after every key (digits, `#` and the id alphabet).
        let hi = format!("E#{}", before.unwrap_or("~"));
        let mut out = Vec::new();
        let mut start = None;
        // TTL deletes within days, not at once: expired items are skipped here, so a page may
        // need more than one request.
        while out.len() < limit {
            let page = self
                .newest_first(profile_pk(tenant, customer), "E#", &hi, limit + 1)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_err)?;
            for item in page.items.unwrap_or_default() {
                if get_s(&item, "lsi1sk") == Some(hi.as_str()) {
                    continue;
                }
                let live = get_n(&item, "expires_at")
                    .is_some_and(|t| i64::try_from(t).unwrap_or(i64::MAX) > now.as_second());
                if live && out.len() < limit {
                    out.push(item_to_event(&item)?);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(out)
    }
}
