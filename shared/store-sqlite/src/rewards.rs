//! Catalogue rewards' stock: one counter per reward, taken in the redemption's transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use fanloop_domain::TenantId;
use fanloop_domain::points::{RewardDecline, StockClaim};
use fanloop_domain::ports::{AccountDecline, RewardStock, StoreError, UpdateError};
use rusqlite::{Connection, params};

use crate::{SqliteStore, db_err};

/// Counts one redemption against `claim`'s stock, or refuses once the stock is taken (the
/// caller's transaction then rolls back whole).
pub(crate) fn take(conn: &Connection, tenant: &str, claim: &StockClaim) -> Result<(), UpdateError> {
    let out_of_stock = || AccountDecline::Reward(RewardDecline::OutOfStock).into();
    if claim.stock == 0 {
        return Err(out_of_stock());
    }
    let changed = conn
        .prepare_cached(
            "INSERT INTO reward_stock (tenant_id, reward_id, redeemed) VALUES (?1, ?2, 1)
             ON CONFLICT (tenant_id, reward_id) DO UPDATE SET redeemed = redeemed + 1
             WHERE redeemed < ?3",
        )
        .map_err(db_err)?
        .execute(params![tenant, claim.reward_id.as_str(), claim.stock])
        .map_err(db_err)?;
    if changed == 0 {
        return Err(out_of_stock());
    }
    Ok(())
}

#[async_trait]
impl RewardStock for SqliteStore {
    async fn rewards_redeemed(
        &self,
        tenant: &TenantId,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            let rows: Vec<(String, i64)> = conn
                .prepare_cached("SELECT reward_id, redeemed FROM reward_stock WHERE tenant_id = ?1")
                .map_err(db_err)?
                .query_map(params![t], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            Ok(rows
                .into_iter()
                .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
                .collect())
        })
        .await
    }
}
