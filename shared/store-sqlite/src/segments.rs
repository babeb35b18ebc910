//! Saved segments: one row per `(tenant, segment_id)` holding the segment document.

use async_trait::async_trait;
use fanloop_domain::TenantId;
use fanloop_domain::ports::{SegmentStore, StoreError};
use fanloop_domain::segments::{Segment, SegmentId};
use rusqlite::{OptionalExtension, params};

use crate::points::json;
use crate::{SqliteStore, corrupt, db_err};

fn parse(doc: &str) -> Result<Segment, StoreError> {
    serde_json::from_str(doc).map_err(|e| corrupt("segment", e))
}

impl SqliteStore {
    /// Runs `sql` (`?1` tenant, `?2` id, `?3` document); `true` if it changed a row.
    async fn write_segment(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        s: &Segment,
    ) -> Result<bool, StoreError> {
        let (t, id, doc) = (
            tenant.to_string(),
            s.segment_id.to_string(),
            json("segment", s)?,
        );
        self.write(move |conn| {
            let n = conn
                .prepare_cached(sql)
                .map_err(db_err)?
                .execute(params![t, id, doc])
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }
}

#[async_trait]
impl SegmentStore for SqliteStore {
    async fn create_segment(&self, tenant: &TenantId, s: &Segment) -> Result<bool, StoreError> {
        self.write_segment(
            "INSERT OR IGNORE INTO segments (tenant_id, segment_id, segment) VALUES (?1, ?2, ?3)",
            tenant,
            s,
        )
        .await
    }

    async fn replace_segment(&self, tenant: &TenantId, s: &Segment) -> Result<bool, StoreError> {
        self.write_segment(
            "UPDATE segments SET segment = ?3 WHERE tenant_id = ?1 AND segment_id = ?2",
            tenant,
            s,
        )
        .await
    }

    async fn segment(
        &self,
        tenant: &TenantId,
        id: &SegmentId,
    ) -> Result<Option<Segment>, StoreError> {
        let (t, id) = (tenant.to_string(), id.to_string());
        self.read(move |conn| {
            let doc: Option<String> = conn
                .prepare_cached(
                    "SELECT segment FROM segments WHERE tenant_id = ?1 AND segment_id = ?2",
                )
                .map_err(db_err)?
                .query_row(params![t, id], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            doc.as_deref().map(parse).transpose()
        })
        .await
    }

    async fn segments(&self, tenant: &TenantId) -> Result<Vec<Segment>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT segment FROM segments WHERE tenant_id = ?1 ORDER BY segment_id",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(|d| parse(&d)))
                .collect()
        })
        .await
    }

    async fn delete_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<bool, StoreError> {
        let (t, id) = (tenant.to_string(), id.to_string());
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM segments WHERE tenant_id = ?1 AND segment_id = ?2")
                .map_err(db_err)?
                .execute(params![t, id])
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }
}
