//! Staff accounts (unique by login address, versioned for optimistic updates), sessions by
//! their token's hash (expired ones swept as new ones are written), and the audit log.

use async_trait::async_trait;
use fanloop_domain::ports::StoreError;
use fanloop_domain::staff::{AuditEntry, Session, StaffAccount, StaffStore, login_key};
use fanloop_domain::{CustomerId, TenantId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, corrupt, db_err};

fn account(doc: &str, version: i64) -> Result<StaffAccount, StoreError> {
    let mut a: StaffAccount = serde_json::from_str(doc).map_err(|e| corrupt("staff", e))?;
    a.version = u64::try_from(version).unwrap_or(0);
    Ok(a)
}

fn entries(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params, |r| r.get::<_, String>(0))
        .map_err(db_err)?;
    rows.map(|r| {
        r.map_err(db_err)
            .and_then(|d| serde_json::from_str(&d).map_err(|e| corrupt("audit entry", e)))
    })
    .collect()
}

/// The entries about a customer, oldest first (the export).
pub(crate) fn customer_audit_oldest_first(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<Vec<AuditEntry>, StoreError> {
    entries(
        conn,
        "SELECT entry FROM audit WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY sort_key",
        params![tenant, customer],
    )
}

/// Erasure: the entries about the customer keep who did what when, nothing else, and are no
/// longer found under the customer's id (a new customer may get it).
pub(crate) fn redact_customer_audit(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<(), StoreError> {
    for e in customer_audit_oldest_first(conn, tenant, customer)? {
        let doc = serde_json::to_string(&e.redacted()).map_err(|e| corrupt("audit entry", e))?;
        conn.execute(
            "UPDATE audit SET entry = ?3, customer_id = NULL WHERE tenant_id = ?1 AND audit_id = ?2",
            params![tenant, e.audit_id, doc],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

const ACCOUNT_COLUMNS: &str = "SELECT account, version FROM staff";

#[async_trait]
impl StaffStore for SqliteStore {
    async fn create_staff(&self, a: &StaffAccount) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(a).map_err(|e| corrupt("staff", e))?;
        let (id, login, tenant) = (
            a.staff_id.clone(),
            login_key(&a.email),
            a.tenant.to_string(),
        );
        self.write(move |conn| {
            let n = conn
                .execute(
                    "INSERT INTO staff (staff_id, login, tenant_id, version, account)
                     VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT DO NOTHING",
                    params![id, login, tenant, doc],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn staff(&self, staff_id: &str) -> Result<Option<StaffAccount>, StoreError> {
        let id = staff_id.to_owned();
        self.read(move |conn| one(conn, &format!("{ACCOUNT_COLUMNS} WHERE staff_id = ?1"), &id))
            .await
    }

    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffAccount>, StoreError> {
        let login = login.to_owned();
        self.read(move |conn| one(conn, &format!("{ACCOUNT_COLUMNS} WHERE login = ?1"), &login))
            .await
    }

    async fn staff_of(&self, tenant: &TenantId) -> Result<Vec<StaffAccount>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "{ACCOUNT_COLUMNS} WHERE tenant_id = ?1 ORDER BY staff_id"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(|(d, v)| account(&d, v)))
                .collect()
        })
        .await
    }

    async fn replace_staff(&self, a: &StaffAccount) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(a).map_err(|e| corrupt("staff", e))?;
        let (id, login) = (a.staff_id.clone(), login_key(&a.email));
        let version = i64::try_from(a.version).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE staff SET account = ?4, version = version + 1
                     WHERE staff_id = ?1 AND login = ?2 AND version = ?3",
                    params![id, login, version, doc],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn put_session(&self, s: &Session) -> Result<(), StoreError> {
        let doc = serde_json::to_string(s).map_err(|e| corrupt("session", e))?;
        let (id, expires) = (s.id_hash.clone(), s.expires_at().as_second());
        let now = s.last_seen.as_second();
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM staff_sessions WHERE expires_at <= ?1",
                params![now],
            )
            .map_err(db_err)?;
            conn.execute(
                "INSERT INTO staff_sessions (id_hash, expires_at, session) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id_hash) DO UPDATE SET session = excluded.session",
                params![id, expires, doc],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let id = id_hash.to_owned();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT session FROM staff_sessions WHERE id_hash = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("session", e)))
                .transpose()
        })
        .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id = id_hash.to_owned();
        self.write(move |conn| {
            conn.execute("DELETE FROM staff_sessions WHERE id_hash = ?1", params![id])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn record_audit(&self, tenant: &TenantId, e: &AuditEntry) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(e).map_err(|e| corrupt("audit entry", e))?;
        let (t, id, sort) = (tenant.to_string(), e.audit_id.clone(), e.sort_key());
        let customer = e.customer.as_ref().map(ToString::to_string);
        self.write(move |conn| {
            let n = conn
                .execute(
                    "INSERT INTO audit (tenant_id, audit_id, sort_key, customer_id, entry)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![t, id, sort, customer, doc],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn audit_log(
        &self,
        tenant: &TenantId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (t, before) = (tenant.to_string(), before.unwrap_or("~").to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            entries(
                conn,
                "SELECT entry FROM audit WHERE tenant_id = ?1 AND sort_key < ?2
                 ORDER BY sort_key DESC LIMIT ?3",
                params![t, before, limit],
            )
        })
        .await
    }

    async fn customer_audit(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            entries(
                conn,
                "SELECT entry FROM audit WHERE tenant_id = ?1 AND customer_id = ?2
                 ORDER BY sort_key DESC LIMIT ?3",
                params![t, c, limit],
            )
        })
        .await
    }
}

fn one(conn: &Connection, sql: &str, key: &str) -> Result<Option<StaffAccount>, StoreError> {
    let row: Option<(String, i64)> = conn
        .query_row(sql, params![key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db_err)?;
    row.map(|(d, v)| account(&d, v)).transpose()
}
