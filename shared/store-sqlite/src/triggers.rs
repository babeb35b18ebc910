//! The trigger outbox: campaign trigger records written in the transaction of the event that
//! caused them (so a crash after the event and before the mail loses nothing), leased by the
//! in-process worker, deleted once handled. A lease that runs out (the worker crashed) makes
//! the record due again; the send markers make a second handling send nothing twice.

use async_trait::async_trait;
use fanloop_domain::campaigns::triggers::{TRIGGER_TTL_DAYS, TriggerRecord};
use fanloop_domain::ports::{StoreError, TriggerOutbox, TriggerParking};
use fanloop_domain::{CustomerId, TenantId};
use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, params};

use crate::points::json;
use crate::{SqliteStore, corrupt, db_err};

/// Writes `t` in the caller's transaction (a record written before is left as it is).
pub(crate) fn put(conn: &Connection, tenant: &str, t: &TriggerRecord) -> Result<(), StoreError> {
    let at = t.occurred_at.as_millisecond();
    let expires = at + TRIGGER_TTL_DAYS * 86_400_000;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO trigger_outbox (tenant_id, customer_id, id, record, not_before, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .map_err(db_err)?
    .execute(params![tenant, t.customer_id.as_str(), t.id, json("trigger", t)?, at, expires])
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl TriggerOutbox for SqliteStore {
    async fn lease_triggers(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: usize,
    ) -> Result<Vec<(TenantId, TriggerRecord)>, StoreError> {
        let now_ms = now.as_millisecond();
        let until = now.checked_add(lease).unwrap_or(now).as_millisecond();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM trigger_outbox WHERE expires_at <= ?1")
                .map_err(db_err)?
                .execute(params![now_ms])
                .map_err(db_err)?;
            let rows: Vec<(String, String, String, String)> = conn
                .prepare_cached(
                    "UPDATE trigger_outbox SET leased_until = ?2
                     WHERE (tenant_id, customer_id, id) IN (
                                     SELECT tenant_id, customer_id, id FROM trigger_outbox
                                     WHERE not_before <= ?1 AND leased_until <= ?1
                                     ORDER BY not_before LIMIT ?3)
                     RETURNING tenant_id, customer_id, id, record",
                )
                .map_err(db_err)?
                .query_map(params![now_ms, until, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(t, _, _, record)| {
                    let tenant = TenantId::parse(t).map_err(|e| corrupt("trigger tenant", e))?;
                    let rec = serde_json::from_str(&record).map_err(|e| corrupt("trigger", e))?;
                    Ok((tenant, rec))
                })
                .collect()
        })
        .await
    }

    async fn finish_trigger(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &str,
    ) -> Result<(), StoreError> {
        let (t, c, id) = (tenant.to_string(), customer.to_string(), id.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM trigger_outbox WHERE tenant_id = ?1 AND customer_id = ?2 AND id = ?3",
            )
            .map_err(db_err)?
            .execute(params![t, c, id])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl TriggerParking for SqliteStore {
    async fn park_trigger(
        &self,
        tenant: &TenantId,
        record: &TriggerRecord,
        not_before: Timestamp,
    ) -> Result<(), StoreError> {
        let (t, r) = (tenant.to_string(), record.clone());
        let at = not_before.as_millisecond();
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM parked_triggers WHERE tenant_id = ?1 AND customer_id = ?2 AND id = ?3",
            )
            .map_err(db_err)?
            .execute(params![t, r.customer_id.as_str(), r.id])
            .map_err(db_err)?;
            conn.prepare_cached(
                "INSERT INTO parked_triggers (tenant_id, not_before, customer_id, id, record)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db_err)?
            .execute(params![
                t,
                at,
                r.customer_id.as_str(),
                r.id,
                json("trigger", &r)?
            ])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn parked_triggers(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, TriggerRecord)>, StoreError> {
        let t = tenant.to_string();
        let (now, limit) = (
            now.as_millisecond(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        self.read(move |conn| {
            let rows: Vec<(i64, String)> = conn
                .prepare_cached(
                    "SELECT not_before, record FROM parked_triggers
                         WHERE tenant_id = ?1 AND not_before <= ?2 ORDER BY not_before LIMIT ?3",
                )
                .map_err(db_err)?
                .query_map(params![t, now, limit], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(at, rec)| {
                    let at = Timestamp::from_millisecond(at)
                        .map_err(|e| corrupt("parked trigger", e))?;
                    let rec = serde_json::from_str(&rec).map_err(|e| corrupt("trigger", e))?;
                    Ok((at, rec))
                })
                .collect()
        })
        .await
    }

    async fn unpark_trigger(
        &self,
        tenant: &TenantId,
        record: &TriggerRecord,
        not_before: Timestamp,
    ) -> Result<(), StoreError> {
        let (t, c, id) = (
            tenant.to_string(),
            record.customer_id.to_string(),
            record.id.clone(),
        );
        let at = not_before.as_millisecond();
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM parked_triggers
                 WHERE tenant_id = ?1 AND not_before = ?2 AND customer_id = ?3 AND id = ?4",
            )
            .map_err(db_err)?
            .execute(params![t, at, c, id])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}
