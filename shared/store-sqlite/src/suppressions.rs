//! The suppression list (`suppressions`: one row per address hash, the state as JSON; never an
//! address) and the provider's news on messages (`messages.delivery`).

use async_trait::async_trait;
use fanloop_domain::campaigns::Message;
use fanloop_domain::deliverability::{AddressHash, AddressState, MessageDelivery};
use fanloop_domain::ports::{AddressFn, StoreError, SuppressionStore};
use fanloop_domain::{CustomerId, TenantId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::points::json;
use crate::{SqliteStore, begin, corrupt, db_err};

fn load(conn: &Connection, t: &str, h: &str) -> Result<Option<AddressState>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT state FROM suppressions WHERE tenant_id = ?1 AND address_hash = ?2")
        .map_err(db_err)?
        .query_row(params![t, h], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("suppression", e)))
        .transpose()
}

/// The provider's news of a message, kept apart from the marker a send rewrites.
pub(crate) fn with_delivery(
    mut m: Message,
    delivery: Option<String>,
) -> Result<Message, StoreError> {
    if let Some(d) = delivery {
        m.delivery = Some(serde_json::from_str(&d).map_err(|e| corrupt("delivery", e))?);
    }
    Ok(m)
}

#[async_trait]
impl SuppressionStore for SqliteStore {
    async fn address(
        &self,
        tenant: &TenantId,
        hash: &AddressHash,
    ) -> Result<Option<AddressState>, StoreError> {
        let (t, h) = (tenant.to_string(), hash.to_string());
        self.read(move |conn| load(conn, &t, &h)).await
    }

    async fn update_address(
        &self,
        tenant: &TenantId,
        hash: &AddressHash,
        change: AddressFn,
    ) -> Result<Option<AddressState>, StoreError> {
        let (t, h) = (tenant.to_string(), hash.to_string());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let before = load(&tx, &t, &h)?;
            let Some(after) = change(before.as_ref()) else {
                return Ok(None);
            };
            let suppressed = i64::from(after.is_suppressed());
            tx.prepare_cached(
                "INSERT INTO suppressions (tenant_id, address_hash, suppressed, state) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant_id, address_hash) DO UPDATE SET suppressed = ?3, state = ?4",
            )
            .map_err(db_err)?
            .execute(params![t, h, suppressed, json("suppression", &after)?])
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(Some(after))
        })
        .await
    }

    async fn suppressions(
        &self,
        tenant: &TenantId,
        after: Option<&AddressHash>,
        limit: usize,
    ) -> Result<Vec<AddressState>, StoreError> {
        let (t, a) = (
            tenant.to_string(),
            after.map_or(String::new(), ToString::to_string),
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let docs: Vec<String> = conn
                .prepare_cached(
                    "SELECT state FROM suppressions WHERE tenant_id = ?1 AND suppressed = 1
                     AND address_hash > ?2 ORDER BY address_hash LIMIT ?3",
                )
                .map_err(db_err)?
                .query_map(params![t, a, limit], |r| r.get(0))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            docs.iter()
                .map(|d| serde_json::from_str(d).map_err(|e| corrupt("suppression", e)))
                .collect()
        })
        .await
    }

    async fn delete_address(
        &self,
        tenant: &TenantId,
        hash: &AddressHash,
    ) -> Result<bool, StoreError> {
        let (t, h) = (tenant.to_string(), hash.to_string());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "DELETE FROM suppressions WHERE tenant_id = ?1 AND address_hash = ?2",
                )
                .map_err(db_err)?
                .execute(params![t, h])
                .map_err(db_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn record_delivery(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        message_id: &str,
        delivery: &MessageDelivery,
    ) -> Result<bool, StoreError> {
        let (t, c, id, d) = (
            tenant.to_string(),
            customer.to_string(),
            message_id.to_owned(),
            delivery.clone(),
        );
        self.write(move |conn| {
            let tx = begin(conn)?;
            let rows: Vec<(String, String, Option<String>)> = tx
                .prepare_cached(
                    "SELECT key, message, delivery FROM messages WHERE tenant_id = ?1 AND customer_id = ?2",
                )
                .map_err(db_err)?
                .query_map(params![t, c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            for (key, doc, before) in rows {
                let m: Message = serde_json::from_str(&doc).map_err(|e| corrupt("message", e))?;
                if m.id != id {
                    continue;
                }
                let m = with_delivery(m, before)?;
                if d.replaces(m.delivery.as_ref()) {
                    tx.prepare_cached(
                        "UPDATE messages SET delivery = ?4 WHERE tenant_id = ?1 AND customer_id = ?2 AND key = ?3",
                    )
                    .map_err(db_err)?
                    .execute(params![t, c, key, json("delivery", &d)?])
                    .map_err(db_err)?;
                    tx.commit().map_err(db_err)?;
                }
                return Ok(true);
            }
            Ok(false)
        })
        .await
    }
}
