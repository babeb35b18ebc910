//! The lot-month index: one row per customer and month of a lot holding points, moved with
//! every account write (rows of months the write emptied go, new months come).

use std::collections::BTreeSet;

use async_trait::async_trait;
use fanloop_domain::ports::{LotIndex, StoreError};
use fanloop_domain::{CustomerId, TenantId};
use rusqlite::{Connection, params};

use crate::{SqliteStore, corrupt, db_err};

/// Moves the customer's rows from the months of `before` to those of `after`.
pub(crate) fn sync(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) -> Result<(), StoreError> {
    for m in before.difference(after) {
        conn.prepare_cached(
            "DELETE FROM lot_index WHERE tenant_id = ?1 AND month = ?2 AND customer_id = ?3",
        )
        .map_err(db_err)?
        .execute(params![tenant, m, customer])
        .map_err(db_err)?;
    }
    for m in after.difference(before) {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO lot_index (tenant_id, month, customer_id) VALUES (?1, ?2, ?3)",
        )
        .map_err(db_err)?
        .execute(params![tenant, m, customer])
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl LotIndex for SqliteStore {
    async fn customers_with_lot(
        &self,
        tenant: &TenantId,
        month: &str,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let (t, m) = (tenant.to_string(), month.to_owned());
        self.read(move |conn| {
            let ids: Vec<String> = conn
                .prepare_cached(
                    "SELECT customer_id FROM lot_index WHERE tenant_id = ?1 AND month = ?2",
                )
                .map_err(db_err)?
                .query_map(params![t, m], |r| r.get(0))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            ids.into_iter()
                .map(|c| CustomerId::parse(c).map_err(|e| corrupt("lot index", e)))
                .collect()
        })
        .await
    }
}
