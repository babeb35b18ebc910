//! API keys on DynamoDB: `KEY#{sha256}` / `KEY` (the lookup by hash; `tenant`, `created_at`,
//! and the key's record as JSON in `info` — absent on a key stored before keys had scopes:
//! every scope) and the tenant's pointer `T#{tenant}` / `KEY#{key_id}` (`hash`) that lists and
//! revokes them. A key from before has no pointer until its first use writes one.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use fanloop_domain::keys::{KeyInfo, key_id};
use fanloop_domain::ports::StoreError;
use fanloop_domain::tenant::ApiKeyHash;
use fanloop_domain::{TenantId, time};
use jiff::Timestamp;

use crate::item::{Item, av_s, get_s};
use crate::points::to_json;
use crate::{DynamoStore, build_err, key, key_pk, tenant_pk};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("api key: {e}"))
}

fn info_of(item: &Item, hash: &ApiKeyHash) -> Result<KeyInfo, StoreError> {
    let tenant = TenantId::parse(get_s(item, "tenant").unwrap_or_default()).map_err(corrupt)?;
    let mut k = match get_s(item, "info") {
        Some(doc) => serde_json::from_str(doc).map_err(corrupt)?,
        None => KeyInfo::legacy(
            &tenant,
            hash,
            time::parse(get_s(item, "created_at").unwrap_or_default()).map_err(corrupt)?,
        ),
    };
    k.tenant = Some(tenant);
    Ok(k)
}

fn pointer_sk(id: &str) -> String {
    format!("KEY#{id}")
}

impl DynamoStore {
    /// The puts of a new key: the item found by hash and the tenant's pointer (both new).
    pub(crate) fn key_puts(
        &self,
        tenant: &TenantId,
        k: &KeyInfo,
        hash: &ApiKeyHash,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut main = key(key_pk(hash), "KEY");
        main.insert("tenant".into(), av_s(tenant.as_str()));
        main.insert("created_at".into(), av_s(time::format(k.created_at)));
        main.insert("info".into(), av_s(to_json("api key", k)?));
        let mut pointer = key(tenant_pk(tenant), &pointer_sk(&k.key_id));
        pointer.insert("hash".into(), av_s(hash.as_str()));
        [main, pointer]
            .into_iter()
            .map(|item| self.put_new(item))
            .collect()
    }

    /// A transaction's put of an item that must not exist yet.
    pub(crate) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .map_err(build_err)
    }

    pub(crate) async fn key_by_hash(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<(KeyInfo, bool)>, StoreError> {
        let Some(item) = self.get(key_pk(hash), "KEY").await? else {
            return Ok(None);
        };
        let legacy = get_s(&item, "info").is_none();
        Ok(Some((info_of(&item, hash)?, legacy)))
    }

    pub(crate) async fn save_key(&self, k: &KeyInfo, hash: &ApiKeyHash) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(key_pk(hash), "KEY")))
            .update_expression("SET info = :info")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":info", av_s(to_json("api key", k)?))
            .send()
            .await
            .map_err(crate::sdk_err)?;
        Ok(())
    }

    /// A key from before keys had records: its record and pointer written (once: the
    /// pointer's condition makes a second writer a no-op).
    pub(crate) async fn adopt_key(&self, k: &KeyInfo, hash: &ApiKeyHash) -> Result<(), StoreError> {
        let tenant = k.tenant.as_ref().ok_or_else(|| corrupt("no tenant"))?;
        self.save_key(k, hash).await?;
        let mut pointer = key(tenant_pk(tenant), &pointer_sk(&key_id(hash)));
        pointer.insert("hash".into(), av_s(hash.as_str()));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(pointer))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        crate::unless_condition_failed(res)
    }

    pub(crate) async fn tenant_keys(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<(KeyInfo, ApiKeyHash)>, StoreError> {
        let pointers = self
            .query_items(None, tenant_pk(tenant), Some("KEY#"), false)
            .await?;
        let mut hashes = Vec::new();
        for p in &pointers {
            hashes.push(
                ApiKeyHash::from_stored(get_s(p, "hash").unwrap_or_default()).map_err(corrupt)?,
            );
        }
        let items = self
            .batch_get(hashes.iter().map(|h| key(key_pk(h), "KEY")).collect())
            .await?;
        let mut out = Vec::new();
        for item in items {
            let hash = ApiKeyHash::from_stored(
                get_s(&item, "pk")
                    .and_then(|pk| pk.strip_prefix("KEY#"))
                    .unwrap_or_default(),
            )
            .map_err(corrupt)?;
            let k = info_of(&item, &hash)?;
            // Only the tenant's own (a pointer is written with its key, in one transaction).
            if k.tenant.as_ref() == Some(tenant) {
                out.push((k, hash));
            }
        }
        out.sort_by(|(a, _), (b, _)| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.key_id.cmp(&b.key_id))
        });
        Ok(out)
    }

    pub(crate) async fn revoke(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<Option<(KeyInfo, ApiKeyHash)>, StoreError> {
        let Some(pointer) = self.get(tenant_pk(tenant), &pointer_sk(id)).await? else {
            return Ok(None);
        };
        let hash = ApiKeyHash::from_stored(get_s(&pointer, "hash").unwrap_or_default())
            .map_err(corrupt)?;
        let Some((mut k, _)) = self.key_by_hash(&hash).await? else {
            return Ok(None);
        };
        if k.tenant.as_ref() != Some(tenant) {
            return Ok(None);
        }
        if k.revoked_at.is_none() {
            k.revoked_at = Some(at);
            self.save_key(&k, &hash).await?;
        }
        Ok(Some((k, hash)))
    }
}
