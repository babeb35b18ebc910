//! Cases: one row per `(tenant, case_id)` with the case as JSON, its `list_key` (the queue's
//! order) and a version for optimistic updates; anonymised with the customer.

use async_trait::async_trait;
use fanloop_domain::cases::{Case, CaseOpened, CaseStore, CaseView};
use fanloop_domain::ports::{RecordError, StoreError};
use fanloop_domain::{CustomerId, TenantId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, begin, corrupt, db_err};

const COLUMNS: &str = "SELECT doc, fingerprint, version FROM cases";

fn parse(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn case_of((doc, fingerprint, version): (String, String, i64)) -> Result<Case, StoreError> {
    let mut c: Case = serde_json::from_str(&doc).map_err(|e| corrupt("case", e))?;
    c.fingerprint = fingerprint;
    c.version = u64::try_from(version).unwrap_or(0);
    Ok(c)
}

fn query(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Case>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt.query_map(p, parse).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err).and_then(case_of)).collect()
}

fn doc(case: &Case) -> Result<String, StoreError> {
    serde_json::to_string(case).map_err(|e| corrupt("case", e))
}

/// The customer's cases, oldest first (the export).
pub(crate) fn customer_cases_oldest_first(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<Vec<Case>, StoreError> {
    query(
        conn,
        &format!("{COLUMNS} WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY case_id"),
        params![tenant, customer],
    )
}

/// Erasure: the customer's cases lose the customer and every text ([`Case::anonymise`]).
pub(crate) fn anonymise_customer_cases(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<(), StoreError> {
    for mut c in customer_cases_oldest_first(conn, tenant, customer)? {
        c.anonymise();
        conn.execute(
            "UPDATE cases SET doc = ?3, customer_id = NULL, fingerprint = ''
             WHERE tenant_id = ?1 AND case_id = ?2",
            params![tenant, c.case_id, doc(&c)?],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn open_case(&self, tenant: &TenantId, case: &Case) -> Result<CaseOpened, RecordError> {
        let (t, case) = (tenant.to_string(), case.clone());
        let body = doc(&case)?;
        self.write(move |conn| {
            let tx = begin(conn)?;
            let existing = tx
                .query_row(
                    &format!("{COLUMNS} WHERE tenant_id = ?1 AND case_id = ?2"),
                    params![t, case.case_id],
                    parse,
                )
                .optional()
                .map_err(db_err)?;
            if let Some(row) = existing {
                return Ok(CaseOpened::Duplicate(Box::new(case_of(row)?)));
            }
            if let Some(c) = &case.customer_id {
                let known: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM customers WHERE tenant_id = ?1 AND customer_id = ?2",
                        params![t, c.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                if known.is_none() {
                    return Err(RecordError::UnknownCustomer);
                }
            }
            tx.execute(
                "INSERT INTO cases (tenant_id, case_id, customer_id, list_key, version, fingerprint, doc)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
                params![
                    t,
                    case.case_id,
                    case.customer_id.as_ref().map(|c| c.as_str()),
                    case.list_key(),
                    case.fingerprint,
                    body
                ],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(CaseOpened::Created)
        })
        .await
    }

    async fn case(&self, tenant: &TenantId, case_id: &str) -> Result<Option<Case>, StoreError> {
        let (t, id) = (tenant.to_string(), case_id.to_owned());
        self.read(move |conn| {
            conn.query_row(
                &format!("{COLUMNS} WHERE tenant_id = ?1 AND case_id = ?2"),
                params![t, id],
                parse,
            )
            .optional()
            .map_err(db_err)?
            .map(case_of)
            .transpose()
        })
        .await
    }

    async fn replace_case(&self, tenant: &TenantId, case: &Case) -> Result<bool, StoreError> {
        let (t, case) = (tenant.to_string(), case.clone());
        let body = doc(&case)?;
        let version = i64::try_from(case.version).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE cases SET doc = ?3, list_key = ?4, version = version + 1
                     WHERE tenant_id = ?1 AND case_id = ?2 AND version = ?5",
                    params![t, case.case_id, body, case.list_key(), version],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn cases(
        &self,
        tenant: &TenantId,
        view: CaseView,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Case>, StoreError> {
        let t = tenant.to_string();
        let prefix = Case::view_prefix(view);
        // `$` sorts just after `#`: every key of the view lies between `A#` and `A$`.
        let end = format!("{}$", &prefix[..1]);
        let after = after.map(str::to_owned);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| match view {
            CaseView::Active => query(
                conn,
                &format!(
                    "{COLUMNS} WHERE tenant_id = ?1 AND list_key > ?2 AND list_key < ?3
                     ORDER BY list_key LIMIT ?4"
                ),
                params![t, after.unwrap_or_else(|| prefix.to_owned()), end, limit],
            ),
            CaseView::Resolved => query(
                conn,
                &format!(
                    "{COLUMNS} WHERE tenant_id = ?1 AND list_key > ?2 AND list_key < ?3
                     ORDER BY list_key DESC LIMIT ?4"
                ),
                params![t, prefix, after.unwrap_or(end), limit],
            ),
        })
        .await
    }

    async fn customer_cases(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Case>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            query(
                conn,
                &format!(
                    "{COLUMNS} WHERE tenant_id = ?1 AND customer_id = ?2
                     ORDER BY case_id DESC LIMIT ?3"
                ),
                params![t, c, limit],
            )
        })
        .await
    }
}
