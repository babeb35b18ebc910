//! Tenants, API keys and settings: `T#{tenant}` / `TENANT` and `KEY#{sha256}` / `KEY`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use fanloop_domain::ports::{CreateTenantError, StoreError, TenantStore, VersionedSettings};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKeyHash, Tenant};
use fanloop_domain::{TenantId, time};
use jiff::Timestamp;

use crate::item::{self, av_s, get_s};
use crate::{
    DynamoStore, build_err, campaigns, cancelled_conditions, key, key_pk, sdk_err, tenant_pk,
};

#[async_trait]
impl TenantStore for DynamoStore {
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        key_hash: &ApiKeyHash,
    ) -> Result<(), CreateTenantError> {
        let at = av_s(time::format(tenant.created_at));
        let mut t = key(tenant_pk(&tenant.id), "TENANT");
        t.insert("tenant".into(), av_s(tenant.id.as_str()));
        t.insert("name".into(), av_s(tenant.name.clone()));
        t.insert("created_at".into(), at.clone());
        t.insert("settings_version".into(), AttributeValue::N("0".into()));
        let lookup_key =
            fanloop_domain::lookup::LookupKey::generate(&fanloop_domain::tenant::OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        t.insert("lookup_key".into(), av_s(lookup_key.to_hex()));
        let mut k = key(key_pk(key_hash), "KEY");
        k.insert("tenant".into(), av_s(tenant.id.as_str()));
        k.insert("created_at".into(), at);
        let put = |item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(build_err)
        };
        let mut registry = key(campaigns::TENANTS_PK.to_owned(), &tenant_pk(&tenant.id));
        registry.insert("tenant".into(), av_s(tenant.id.as_str()));
        let items = vec![put(t)?, put(k)?, put(registry)?];
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

    async fn add_api_key(
        &self,
        tenant: &TenantId,
        key_hash: &ApiKeyHash,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut k = key(key_pk(key_hash), "KEY");
        k.insert("tenant".into(), av_s(tenant.as_str()));
        k.insert("created_at".into(), av_s(time::format(at)));
        self.put_item(k).await
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

    async fn tenant_for_key(&self, key_hash: &ApiKeyHash) -> Result<Option<TenantId>, StoreError> {
        let Some(item) = self.get(key_pk(key_hash), "KEY").await? else {
            return Ok(None);
        };
        let t = get_s(&item, "tenant").unwrap_or_default();
        TenantId::parse(t)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("api key tenant: {e}")))
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
