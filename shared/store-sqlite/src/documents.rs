//! The tenant's documents (saved segments, campaign definitions): one row per
//! `(tenant, collection, id)` holding the JSON the domain wrote.

use async_trait::async_trait;
use fanloop_domain::TenantId;
use fanloop_domain::ports::{Collection, DocumentStore, StoreError};
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, db_err};

impl SqliteStore {
    /// Runs `sql` (`?1` tenant, `?2` collection, `?3` id, `?4` document if it names one);
    /// `true` if it changed a row.
    async fn change_document(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        c: Collection,
        id: &str,
        doc: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (t, id, doc) = (tenant.to_string(), id.to_owned(), doc.map(str::to_owned));
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
            let n = match doc {
                Some(d) => stmt.execute(params![t, c.as_str(), id, d]),
                None => stmt.execute(params![t, c.as_str(), id]),
            }
            .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }
}

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn create_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
        doc: &str,
    ) -> Result<bool, StoreError> {
        self.change_document(
            "INSERT OR IGNORE INTO documents (tenant_id, collection, id, doc) VALUES (?1, ?2, ?3, ?4)",
            tenant,
            c,
            id,
            Some(doc),
        )
        .await
    }

    async fn replace_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
        doc: &str,
    ) -> Result<bool, StoreError> {
        self.change_document(
            "UPDATE documents SET doc = ?4 WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
            tenant,
            c,
            id,
            Some(doc),
        )
        .await
    }

    async fn document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let (t, id) = (tenant.to_string(), id.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT doc FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
            )
            .map_err(db_err)?
            .query_row(params![t, c.as_str(), id], |r| r.get(0))
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn documents(&self, tenant: &TenantId, c: Collection) -> Result<Vec<String>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT doc FROM documents WHERE tenant_id = ?1 AND collection = ?2 ORDER BY id",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t, c.as_str()], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn delete_document(
        &self,
        tenant: &TenantId,
        c: Collection,
        id: &str,
    ) -> Result<bool, StoreError> {
        self.change_document(
            "DELETE FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
            tenant,
            c,
            id,
            None,
        )
        .await
    }
}
