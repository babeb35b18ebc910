//! Tenants, API keys and settings: `T#{tenant}` / `TENANT` and `KEY#{sha256}` / `KEY`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::ingest::IngestSecret;
use fanloop_domain::keys::KeyInfo;
use fanloop_domain::ports::{CreateTenantError, StoreError, TenantStore, VersionedSettings};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKey, ApiKeyHash, Tenant};
use fanloop_domain::{TenantId, time};
use jiff::Timestamp;

use crate::item::{self, av_s, get_s};
use crate::{DynamoStore, campaigns, cancelled_conditions, key, sdk_err, tenant_pk};

#[async_trait]
impl TenantStore for DynamoStore {
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        api_key: &ApiKey,
    ) -> Result<(), CreateTenantError> {
        let at = av_s(time::format(tenant.created_at));
        let mut t = key(tenant_pk(&tenant.id), "TENANT");
        t.insert("tenant".into(), av_s(tenant.id.as_str()));
        t.insert("name".into(), av_s(tenant.name.clone()));
        t.insert("created_at".into(), at);
        t.insert("settings_version".into(), AttributeValue::N("0".into()));
        let lookup_key =
            fanloop_domain::lookup::LookupKey::generate(&fanloop_domain::tenant::OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        t.insert("lookup_key".into(), av_s(lookup_key.to_hex()));
        let ingest = IngestSecret::generate(&fanloop_domain::tenant::OsRandom, tenant.created_at)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        t.insert(
            "ingest_secrets".into(),
            av_s(crate::points::to_json("ingest secrets", &[ingest])?),
        );
        let first = KeyInfo::first(&tenant.id, api_key, tenant.created_at);
        let key_items = self.key_puts(&tenant.id, &first, &api_key.hash())?;
        let put = |item| self.put_new(item);
        let mut registry = key(campaigns::TENANTS_PK.to_owned(), &tenant_pk(&tenant.id));
        registry.insert("tenant".into(), av_s(tenant.id.as_str()));
        let mut items = vec![put(t)?, put(registry)?];
        items.extend(key_items);
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match cancelled_conditions(&e) {
                Some(failed) if failed.first() == Some(&true) => Err(CreateTenantError::Exists),
                _ => Err(sdk_err(e).into()),
            },
        }
    }

    async fn create_key(
        &self,
        tenant: &TenantId,
        k: &KeyInfo,
        hash: &ApiKeyHash,
    ) -> Result<(), StoreError> {
        let items = self.key_puts(tenant, k, hash)?;
        // Already there (the same key again): nothing to do.
        self.transact_applied(items).await.map(|_| ())
    }

    async fn key(&self, hash: &ApiKeyHash) -> Result<Option<KeyInfo>, StoreError> {
        Ok(self.key_by_hash(hash).await?.map(|(k, _)| k))
    }

    async fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyInfo>, StoreError> {
        Ok(self
            .tenant_keys(tenant)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    async fn revoke_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<Option<(KeyInfo, ApiKeyHash)>, StoreError> {
        self.revoke(tenant, key_id, at).await
    }

    async fn ingest_secrets(&self, tenant: &TenantId) -> Result<Vec<IngestSecret>, StoreError> {
        let item = self.get(tenant_pk(tenant), "TENANT").await?;
        match item.as_ref().and_then(|i| get_s(i, "ingest_secrets")) {
            Some(doc) => serde_json::from_str(doc)
                .map_err(|e| StoreError::Corrupt(format!("ingest secrets: {e}"))),
            None => Ok(Vec::new()),
        }
    }

    async fn put_ingest_secrets(
        &self,
        tenant: &TenantId,
        secrets: &[IngestSecret],
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(tenant_pk(tenant), "TENANT")))
            .update_expression("SET ingest_secrets = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":s",
                av_s(crate::points::to_json("ingest secrets", &secrets)?),
            )
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn key_used(&self, hash: &ApiKeyHash, at: Timestamp) -> Result<(), StoreError> {
        let Some((mut k, legacy)) = self.key_by_hash(hash).await? else {
            return Ok(());
        };
        k.last_used_at = Some(at);
        if legacy {
            // Its first use since keys have records: write its record and its pointer.
            self.adopt_key(&k, hash).await
        } else {
            self.save_key(&k, hash).await
        }
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let Some(item) = self.get(tenant_pk(id), "TENANT").await? else {
            return Ok(None);
        };
        let name = get_s(&item, "name").unwrap_or_default().to_owned();
        let created_at = time::parse(get_s(&item, "created_at").unwrap_or_default())
            .map_err(|e| StoreError::Corrupt(format!("tenant created_at: {e}")))?;
        Ok(Some(Tenant {
            id: id.clone(),
            name,
            created_at,
        }))
    }

    async fn settings(&self, tenant: &TenantId) -> Result<VersionedSettings, StoreError> {
        let item = self.get(tenant_pk(tenant), "TENANT").await?;
        let version = item
            .as_ref()
            .and_then(|i| item::get_n(i, "settings_version"))
            .unwrap_or(0);
        let settings = match item.as_ref().and_then(|i| get_s(i, "settings")) {
            Some(doc) => serde_json::from_str(doc)
                .map_err(|e| StoreError::Corrupt(format!("settings: {e}")))?,
            None => TenantSettings::default(),
        };
        Ok(VersionedSettings { settings, version })
    }

    async fn put_settings(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let doc = serde_json::to_string(settings)
            .map_err(|e| StoreError::Corrupt(format!("settings: {e}")))?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(tenant_pk(tenant), "TENANT")))
            .update_expression("SET settings = :doc, settings_version = :next")
            .condition_expression("settings_version = :expected")
            .expression_attribute_values(":doc", av_s(doc))
            .expression_attribute_values(
                ":next",
                AttributeValue::N((expected_version + 1).to_string()),
            )
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(expected_version + 1),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(sdk_err(e)),
        }
    }
}
