//! Tenants, API keys and settings.

use async_trait::async_trait;
use fanloop_domain::ports::{CreateTenantError, StoreError, TenantStore, VersionedSettings};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKeyHash, Tenant};
use fanloop_domain::{TenantId, time};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, begin, corrupt, db_err};

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        key: &ApiKeyHash,
    ) -> Result<(), CreateTenantError> {
        let (id, name, at, key) = (
            tenant.id.to_string(),
            tenant.name.clone(),
            time::format(tenant.created_at),
            key.as_str().to_owned(),
        );
        let lookup_key =
            fanloop_domain::lookup::LookupKey::generate(&fanloop_domain::tenant::OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
                .to_hex();
        self.write(move |conn| {
            let tx = begin(conn)?;
            let inserted = tx
                .execute(
                    "INSERT INTO tenants (id, name, created_at, lookup_key) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
                    params![id, name, at, lookup_key],
                )
                .map_err(db_err)?;
            if inserted == 0 {
                return Err(CreateTenantError::Exists);
            }
            tx.execute("INSERT INTO api_keys (key_hash, tenant_id, created_at) VALUES (?1, ?2, ?3)", params![key, id, at])
                .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn add_api_key(
        &self,
        tenant: &TenantId,
        key: &ApiKeyHash,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, key, at) = (
            tenant.to_string(),
            key.as_str().to_owned(),
            time::format(at),
        );
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (key_hash, tenant_id, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key_hash) DO NOTHING",
                params![key, id, at],
            )
            .map_err(db_err)?;
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

    async fn tenant_for_key(&self, key: &ApiKeyHash) -> Result<Option<TenantId>, StoreError> {
        let key = key.as_str().to_owned();
        self.read(move |conn| {
            let id: Option<String> = conn
                .query_row(
                    "SELECT tenant_id FROM api_keys WHERE key_hash = ?1",
                    params![key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            id.map(|id| TenantId::parse(id).map_err(|e| corrupt("api key", e)))
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
