//! The search index: an item per lookup token and customer,
//! `T#{tenant}#LOOKUP#{token}#{shard}` / `C#{customer}` — e-mail and phone tokens are keyed
//! hashes, so no address is ever in a key; tag tokens are spread over 8 shards by customer, so a
//! tag a large share of the tenant carries is not one hot partition. The upsert writes them in
//! its transaction; erasure deletes them; a search reads the token's partitions and then each
//! profile, keeping those that still carry the token. Segment tokens (tier, lifecycle stage,
//! RFM segment) are written by the analytics snapshot with the segments it stores on the
//! profile item (`stage`, `seg_tier`, `seg_rfm`). The tenant's lookup key is an attribute of
//! the tenant item, made on first use (conditionally, so two instances agree) and cached.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use fanloop_domain::lookup::{CustomerQuery, LookupKey, is_sharded, tokens};
use fanloop_domain::ports::{CustomerPage, ProfileStore, StoreError};
use fanloop_domain::profile::Profile;
use fanloop_domain::surveys::{SHARDS, shard_of};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{av_s, get_s};
use crate::points::corrupt;
use crate::{DynamoStore, build_err, key, sdk_err, tenant_pk};

/// Lookup keys by tenant (they never change once made).
#[derive(Debug, Default)]
pub struct KeyCache(Mutex<HashMap<TenantId, LookupKey>>);

fn shard(token: &str, customer: &CustomerId) -> u32 {
    if is_sharded(token) {
        shard_of(customer.as_str())
    } else {
        0
    }
}

fn lookup_pk(tenant: &TenantId, token: &str, shard: u32) -> String {
    format!("T#{tenant}#LOOKUP#{token}#{shard}")
}

/// The key of the lookup item of `token` for `customer`.
pub(crate) fn lookup_key_of(
    tenant: &TenantId,
    token: &str,
    customer: &CustomerId,
) -> HashMap<String, AttributeValue> {
    key(
        lookup_pk(tenant, token, shard(token, customer)),
        &format!("C#{customer}"),
    )
}

impl DynamoStore {
    /// The tenant's lookup key, made on first use.
    pub(crate) async fn lookup_key(&self, tenant: &TenantId) -> Result<LookupKey, StoreError> {
        if let Some(k) = self
            .lookup_keys
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
        {
            return Ok(k.clone());
        }
        for _ in 0..3 {
            let item = self.get(tenant_pk(tenant), "TENANT").await?;
            if let Some(raw) = item.as_ref().and_then(|i| get_s(i, "lookup_key")) {
                let k = LookupKey::from_hex(raw)
                    .ok_or_else(|| corrupt("lookup key", "not 32 hex bytes"))?;
                self.lookup_keys
                    .0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(tenant.clone(), k.clone());
                return Ok(k);
            }
            let k = LookupKey::generate(&OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(tenant_pk(tenant), "TENANT")))
                .update_expression("SET lookup_key = :k")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(lookup_key)")
                .expression_attribute_values(":k", av_s(k.to_hex()))
                .send()
                .await;
            crate::unless_condition_failed(res)?;
            // Made here or by another instance: read it back.
        }
        Err(StoreError::Conflict)
    }

    /// The writes that move the index from `before` to `after` (one customer's profile).
    pub(crate) fn lookup_changes(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&Profile>,
        after: &Profile,
        key: &LookupKey,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let old: BTreeSet<String> = before.map(|p| tokens(p, key)).unwrap_or_default();
        let new = tokens(after, key);
        let added: Vec<String> = new.difference(&old).cloned().collect();
        let removed: Vec<String> = old.difference(&new).cloned().collect();
        self.token_writes(tenant, customer, &added, &removed)
    }

    /// Puts the customer's lookup items of `added`, deletes those of `removed`.
    pub(crate) fn token_writes(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        added: &[String],
        removed: &[String],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut out = Vec::new();
        for t in added {
            let mut item = lookup_key_of(tenant, t, customer);
            item.insert("customer_id".into(), av_s(customer.as_str()));
            out.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .build()
                            .map_err(build_err)?,
                    )
                    .build(),
            );
        }
        for t in removed {
            out.push(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(lookup_key_of(tenant, t, customer)))
                            .build()
                            .map_err(build_err)?,
                    )
                    .build(),
            );
        }
        Ok(out)
    }

    /// Index changes that did not fit in the upsert's transaction, in transactions of 100.
    pub(crate) async fn write_late_lookups(
        &self,
        late: Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        for chunk in late.chunks(100) {
            self.client
                .transact_write_items()
                .set_transact_items(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(sdk_err)?;
        }
        Ok(())
    }

    /// Customers under the query's token, in id order after `after`, still carrying it.
    pub(crate) async fn find(
        &self,
        tenant: &TenantId,
        query: &CustomerQuery,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<CustomerPage, StoreError> {
        let key_ = self.lookup_key(tenant).await?;
        let token = query.token(&key_);
        let shards = if query.sharded() { SHARDS } else { 1 };
        let from = format!("C#{}", after.map_or("", |c| c.as_str()));
        let mut ids = Vec::new();
        for s in 0..shards {
            // Each shard's first `limit` after the cursor hold the first `limit` of all.
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :from")
                .expression_attribute_values(":pk", av_s(lookup_pk(tenant, &token, s)))
                .expression_attribute_values(":from", av_s(from.clone()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(sdk_err)?;
            for item in out.items.unwrap_or_default() {
                if let Some(c) = get_s(&item, "customer_id").and_then(|c| CustomerId::parse(c).ok())
                {
                    ids.push(c);
                }
            }
        }
        ids.sort();
        ids.dedup();
        ids.truncate(limit);
        let next = (ids.len() == limit).then(|| ids.last().cloned()).flatten();
        let mut customers = Vec::with_capacity(ids.len());
        for c in ids {
            // A profile's own tokens may have been written late (after the profile, see
            // `write_late_lookups`); segment items move only with the segments stored on the
            // profile, in one transaction, so they are exact.
            if let Some(p) = self.profile(tenant, &c).await?
                && (query.is_segment() || tokens(&p, &key_).contains(&token))
            {
                customers.push(p);
            }
        }
        Ok(CustomerPage { customers, next })
    }
}
