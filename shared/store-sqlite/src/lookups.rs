//! The search index: one row per `(tenant, lookup token, customer)` ([`fanloop_domain::lookup`]),
//! rewritten with the profile in the upsert's transaction, deleted by erasure. The tenant's
//! lookup key is made the first time it is needed, and every profile the tenant already has is
//! indexed in that same transaction. Segment tokens (written by the analytics snapshot) live in
//! the same table; rewriting a profile's tokens leaves them alone.

use fanloop_domain::lookup::{LookupKey, SEGMENT_PREFIX, tokens};
use fanloop_domain::ports::StoreError;
use fanloop_domain::profile::Profile;
use fanloop_domain::tenant::OsRandom;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{corrupt, db_err};

/// The tenant's lookup key, if it has one yet.
pub(crate) fn key(conn: &Connection, tenant: &str) -> Result<Option<LookupKey>, StoreError> {
    let raw: Option<Option<String>> = conn
        .prepare_cached("SELECT lookup_key FROM tenants WHERE id = ?1")
        .map_err(db_err)?
        .query_row(params![tenant], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    raw.flatten()
        .map(|k| LookupKey::from_hex(&k).ok_or_else(|| corrupt("lookup key", "not 32 hex bytes")))
        .transpose()
}

/// The tenant's lookup key, made (and the tenant's profiles indexed) if it has none yet.
pub(crate) fn key_or_create(conn: &Connection, tenant: &str) -> Result<LookupKey, StoreError> {
    if let Some(k) = key(conn, tenant)? {
        return Ok(k);
    }
    let k = LookupKey::generate(&OsRandom).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.execute(
        "UPDATE tenants SET lookup_key = ?2 WHERE id = ?1",
        params![tenant, k.to_hex()],
    )
    .map_err(db_err)?;
    let profiles: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT profile FROM customers WHERE tenant_id = ?1")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![tenant], |r| r.get(0))
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)?
    };
    for doc in profiles {
        let p: Profile = serde_json::from_str(&doc).map_err(|e| corrupt("profile", e))?;
        sync(conn, tenant, &p, &k)?;
    }
    Ok(k)
}

/// Makes the index say what `profile` says.
pub(crate) fn sync(
    conn: &Connection,
    tenant: &str,
    profile: &Profile,
    key: &LookupKey,
) -> Result<(), StoreError> {
    let customer = profile.customer_id.as_str();
    conn.prepare_cached(
        "DELETE FROM lookups WHERE tenant_id = ?1 AND customer_id = ?2
         AND substr(token, 1, length(?3)) <> ?3",
    )
    .map_err(db_err)?
    .execute(params![tenant, customer, SEGMENT_PREFIX])
    .map_err(db_err)?;
    let mut insert = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO lookups (tenant_id, token, customer_id) VALUES (?1, ?2, ?3)",
        )
        .map_err(db_err)?;
    for token in tokens(profile, key) {
        insert
            .execute(params![tenant, token, customer])
            .map_err(db_err)?;
    }
    Ok(())
}

/// Adds the customer's tokens `added` and drops `removed`.
pub(crate) fn change(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    added: &[String],
    removed: &[String],
) -> Result<(), StoreError> {
    for (sql, tokens) in [
        (
            "INSERT OR IGNORE INTO lookups (tenant_id, token, customer_id) VALUES (?1, ?2, ?3)",
            added,
        ),
        (
            "DELETE FROM lookups WHERE tenant_id = ?1 AND token = ?2 AND customer_id = ?3",
            removed,
        ),
    ] {
        let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
        for token in tokens {
            stmt.execute(params![tenant, token, customer])
                .map_err(db_err)?;
        }
    }
    Ok(())
}

/// Customer ids under `token`, in id order, after `after`.
pub(crate) fn find(
    conn: &Connection,
    tenant: &str,
    token: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT customer_id FROM lookups WHERE tenant_id = ?1 AND token = ?2 AND customer_id > ?3
             ORDER BY customer_id LIMIT ?4",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(
            params![
                tenant,
                token,
                after,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}
