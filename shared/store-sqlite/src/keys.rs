//! API keys on SQLite: `api_keys` rows (hash, tenant, created), with the key's record as JSON
//! in `info` (null: a key stored before keys had scopes — every scope).

use fanloop_domain::keys::{KeyInfo, key_id};
use fanloop_domain::ports::StoreError;
use fanloop_domain::tenant::ApiKeyHash;
use fanloop_domain::{TenantId, time};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::points::json;
use crate::{corrupt, db_err};

/// A row read back: `(hash, tenant, created_at, info)`.
type Row = (String, String, String, Option<String>);

fn info(row: Row) -> Result<(KeyInfo, ApiKeyHash), StoreError> {
    let (hash, tenant, created, doc) = row;
    let hash = ApiKeyHash::from_stored(&hash).map_err(|e| corrupt("api key", e))?;
    let tenant = TenantId::parse(tenant).map_err(|e| corrupt("api key", e))?;
    let mut k = match doc {
        Some(d) => serde_json::from_str(&d).map_err(|e| corrupt("api key", e))?,
        None => KeyInfo::legacy(
            &tenant,
            &hash,
            time::parse(&created).map_err(|e| corrupt("api key", e))?,
        ),
    };
    k.tenant = Some(tenant);
    Ok((k, hash))
}

const COLUMNS: &str = "key_hash, tenant_id, created_at, info";

pub(crate) fn insert(conn: &Connection, k: &KeyInfo, hash: &ApiKeyHash) -> Result<(), StoreError> {
    let tenant = k
        .tenant
        .as_ref()
        .ok_or_else(|| corrupt("api key", "no tenant"))?;
    conn.execute(
        "INSERT INTO api_keys (key_hash, tenant_id, created_at, info) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key_hash) DO NOTHING",
        params![
            hash.as_str(),
            tenant.as_str(),
            time::format(k.created_at),
            json("api key", k)?
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn by_hash(conn: &Connection, hash: &ApiKeyHash) -> Result<Option<KeyInfo>, StoreError> {
    let row: Option<Row> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?1"
        ))
        .map_err(db_err)?
        .query_row(params![hash.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .map_err(db_err)?;
    row.map(|r| info(r).map(|(k, _)| k)).transpose()
}

pub(crate) fn of_tenant(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<(KeyInfo, ApiKeyHash)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at, key_hash"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![tenant.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(db_err)?;
    rows.map(|r| info(r.map_err(db_err)?)).collect()
}

pub(crate) fn save(conn: &Connection, k: &KeyInfo, hash: &ApiKeyHash) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE api_keys SET info = ?2 WHERE key_hash = ?1",
        params![hash.as_str(), json("api key", k)?],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Revokes the tenant's key `id` (inside the caller's transaction).
pub(crate) fn revoke(
    conn: &Connection,
    tenant: &TenantId,
    id: &str,
    at: Timestamp,
) -> Result<Option<(KeyInfo, ApiKeyHash)>, StoreError> {
    let Some((mut k, hash)) = of_tenant(conn, tenant)?
        .into_iter()
        .find(|(_, h)| key_id(h) == id)
    else {
        return Ok(None);
    };
    if k.revoked_at.is_none() {
        k.revoked_at = Some(at);
        save(conn, &k, &hash)?;
    }
    Ok(Some((k, hash)))
}
