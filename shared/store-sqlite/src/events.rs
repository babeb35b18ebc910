//! Behaviour events: one row per `(tenant, customer, event_id)`, ordered by
//! [`BehaviourEvent::sort_key`] for newest-first reads, removed after `expires_at` by
//! [`SqliteStore::purge_expired_events`] (the in-process scheduler runs it).

use async_trait::async_trait;
use fanloop_domain::analytics::Counters;
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::events::{BehaviourEvent, StoredEvent};
use fanloop_domain::ports::{EventRecorded, EventStore, RecordError, StoreError};
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, backlog, begin, corrupt, db_err};

fn parse(doc: &str) -> Result<BehaviourEvent, StoreError> {
    serde_json::from_str(doc).map_err(|e| corrupt("event", e))
}

/// The customer's events (expired or not), oldest first, for the export.
pub(crate) fn customer_events(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<Vec<BehaviourEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT event FROM events WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY sort_key",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![tenant, customer], |r| r.get::<_, String>(0))
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err).and_then(|d| parse(&d)))
        .collect()
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn record_event(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        event: &StoredEvent,
        activity: Activity,
        counters: &Counters,
    ) -> Result<EventRecorded, RecordError> {
        let (t, c, stored) = (tenant.to_string(), customer.to_string(), event.clone());
        let counters = counters.clone();
        let doc = serde_json::to_string(&event.event).map_err(|e| corrupt("event", e))?;
        self.write(move |conn| {
            let tx = begin(conn)?;
            let existing: Option<(String, String)> = tx
                .query_row(
                    "SELECT event, fingerprint FROM events
                     WHERE tenant_id = ?1 AND customer_id = ?2 AND event_id = ?3",
                    params![t, c, stored.event.event_id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            if let Some((doc, fingerprint)) = existing {
                return Ok(EventRecorded::Duplicate(StoredEvent {
                    event: parse(&doc)?,
                    fingerprint,
                }));
            }
            if !backlog::touch(&tx, &t, &c, activity)? {
                return Err(RecordError::UnknownCustomer);
            }
            tx.execute(
                "INSERT INTO events (tenant_id, customer_id, event_id, sort_key, expires_at, event, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    t,
                    c,
                    stored.event.event_id.as_str(),
                    stored.event.sort_key(),
                    stored.event.expires_at.as_second(),
                    doc,
                    stored.fingerprint
                ],
            )
            .map_err(db_err)?;
            crate::analytics::add(&tx, &t, &c, &counters)?;
            tx.commit().map_err(db_err)?;
            Ok(EventRecorded::Created)
        })
        .await
    }

    async fn events(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&str>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<BehaviourEvent>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        // `~` sorts after every key (digits, `#` and the id alphabet).
        let before = before.unwrap_or("~").to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT event FROM events
                     WHERE tenant_id = ?1 AND customer_id = ?2 AND sort_key < ?3 AND expires_at > ?4
                     ORDER BY sort_key DESC LIMIT ?5",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t, c, before, now.as_second(), limit], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(|d| parse(&d)))
                .collect()
        })
        .await
    }
}

impl SqliteStore {
    /// Deletes every event whose retention ended by `now` (every tenant); how many went.
    pub async fn purge_expired_events(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM events WHERE expires_at <= ?1",
                params![now.as_second()],
            )
            .map_err(db_err)
        })
        .await
    }
}
