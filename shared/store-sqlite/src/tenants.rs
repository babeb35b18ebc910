//! Tenants, API keys and settings.

use async_trait::async_trait;
use fanloop_domain::ingest::IngestSecret;
use fanloop_domain::keys::KeyInfo;
use fanloop_domain::ports::{CreateTenantError, StoreError, TenantStore, VersionedSettings};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKey, ApiKeyHash, Tenant};
use fanloop_domain::{TenantId, time};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, begin, corrupt, db_err, keys};

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant, key: &ApiKey) -> Result<(), CreateTenantError> {
        let (id, name, at) = (
            tenant.id.to_string(),
            tenant.name.clone(),
            time::format(tenant.created_at),
        );
        let (first, hash) = (
            KeyInfo::first(&tenant.id, key, tenant.created_at),
            key.hash(),
        );
        let lookup_key =
            fanloop_domain::lookup::LookupKey::generate(&fanloop_domain::tenant::OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
                .to_hex();
        let ingest = IngestSecret::generate(&fanloop_domain::tenant::OsRandom, tenant.created_at)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let ingest = crate::points::json("ingest secrets", &[ingest])?;
        self.write(move |conn| {
            let tx = begin(conn)?;
            let inserted = tx
                .execute(
                    "INSERT INTO tenants (id, name, created_at, lookup_key, ingest_secrets) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                    params![id, name, at, lookup_key, ingest],
                )
                .map_err(db_err)?;
            if inserted == 0 {
                return Err(CreateTenantError::Exists);
            }
            keys::insert(&tx, &first, &hash)?;
            tx.commit().map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn create_key(
        &self,
        tenant: &TenantId,
        key: &KeyInfo,
        hash: &ApiKeyHash,
    ) -> Result<(), StoreError> {
        let mut k = key.clone();
        k.tenant = Some(tenant.clone());
        let hash = hash.clone();
        self.write(move |conn| keys::insert(conn, &k, &hash)).await
    }

    async fn key(&self, hash: &ApiKeyHash) -> Result<Option<KeyInfo>, StoreError> {
        let hash = hash.clone();
        self.read(move |conn| keys::by_hash(conn, &hash)).await
    }

    async fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyInfo>, StoreError> {
        let t = tenant.clone();
        self.read(move |conn| {
            Ok(keys::of_tenant(conn, &t)?
                .into_iter()
                .map(|(k, _)| k)
                .collect())
        })
        .await
    }

    async fn revoke_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<Option<(KeyInfo, ApiKeyHash)>, StoreError> {
        let (t, id) = (tenant.clone(), key_id.to_owned());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let out = keys::revoke(&tx, &t, &id, at)?;
            tx.commit().map_err(db_err)?;
            Ok(out)
        })
        .await
    }

    async fn ingest_secrets(&self, tenant: &TenantId) -> Result<Vec<IngestSecret>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            let doc: Option<Option<String>> = conn
                .query_row(
                    "SELECT ingest_secrets FROM tenants WHERE id = ?1",
                    params![t],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            match doc.flatten() {
                Some(d) => serde_json::from_str(&d).map_err(|e| corrupt("ingest secrets", e)),
                None => Ok(Vec::new()),
            }
        })
        .await
    }

    async fn put_ingest_secrets(
        &self,
        tenant: &TenantId,
        secrets: &[IngestSecret],
    ) -> Result<(), StoreError> {
        let (t, doc) = (
            tenant.to_string(),
            crate::points::json("ingest secrets", &secrets)?,
        );
        self.write(move |conn| {
            conn.execute(
                "UPDATE tenants SET ingest_secrets = ?2 WHERE id = ?1",
                params![t, doc],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn key_used(&self, hash: &ApiKeyHash, at: Timestamp) -> Result<(), StoreError> {
        let hash = hash.clone();
        self.write(move |conn| {
            if let Some(mut k) = keys::by_hash(conn, &hash)? {
                k.last_used_at = Some(at);
                keys::save(conn, &k, &hash)?;
            }
            Ok(())
        })
        .await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let id = id.clone();
        self.read(move |conn| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT name, created_at FROM tenants WHERE id = ?1",
                    params![id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            row.map(|(name, at)| {
                Ok(Tenant {
                    id: id.clone(),
                    name,
                    created_at: time::parse(&at).map_err(|e| corrupt("tenant", e))?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn settings(&self, tenant: &TenantId) -> Result<VersionedSettings, StoreError> {
        let id = tenant.to_string();
        self.read(move |conn| {
            let row: Option<(Option<String>, i64)> = conn
                .query_row(
                    "SELECT settings, settings_version FROM tenants WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            match row {
                Some((Some(doc), v)) => Ok(VersionedSettings {
                    settings: serde_json::from_str(&doc).map_err(|e| corrupt("settings", e))?,
                    version: u64::try_from(v).map_err(|e| corrupt("settings version", e))?,
                }),
                _ => Ok(VersionedSettings {
                    settings: TenantSettings::default(),
                    version: 0,
                }),
            }
        })
        .await
    }

    async fn put_settings(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let id = tenant.to_string();
        let doc = serde_json::to_string(settings).map_err(|e| corrupt("settings", e))?;
        let expected =
            i64::try_from(expected_version).map_err(|e| corrupt("settings version", e))?;
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE tenants SET settings = ?1, settings_version = settings_version + 1
                     WHERE id = ?2 AND settings_version = ?3",
                    params![doc, id, expected],
                )
                .map_err(db_err)?;
            if n == 1 {
                Ok(expected_version + 1)
            } else {
                Err(StoreError::Conflict)
            }
        })
        .await
    }
}
