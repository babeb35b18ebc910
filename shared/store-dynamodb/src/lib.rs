//! The production store: one DynamoDB table, single-table design (see `docs/dynamodb.md`).
//!
//! Keys always start with the tenant, so tenants never share a partition:
//! - `T#{tenant}` / `TENANT`: name, creation time, settings document and its version
//! - `KEY#{sha256}` / `KEY`: the tenant an API key belongs to
//! - `T#{tenant}#C#{customer}` / `PROFILE`: the profile (later also ledger, messages, … under the
//!   same partition, so export and erasure are one `Query`)
//! - `T#{tenant}#ID#{platform}#{external_id}` / `IDENTITY`: which customer holds an identity
//! - GSI `by-birthday`: `gsi1pk = T#{tenant}#BDAY#{MM-DD}`; GSI `by-last-active`:
//!   `gsi2pk = T#{tenant}#ACTIVE#{YYYY-MM-DD}` (UTC day) — sparse, read by the campaigns.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use fanloop_domain::ports::StoreError;
use fanloop_domain::profile::Identity;
use fanloop_domain::tenant::ApiKeyHash;
use fanloop_domain::{CustomerId, TenantId, time};
use jiff::Timestamp;

mod analytics;
mod backlog;
mod campaigns;
mod cases;
mod contacts;
mod documents;
mod events;
mod item;
mod keys;
mod lookups;
mod lots;
mod points;
mod profiles;
mod rewards;
mod staff;
mod suppressions;
mod surveys;
mod tallies;
mod tenants;
pub mod triggers;
mod update;

use item::{Item, av_s};

/// How often an optimistic read-modify-write is retried when a concurrent write wins.
pub(crate) const OPTIMISTIC_ATTEMPTS: usize = 8;

/// Attempts of a transaction that only collides with other writers of a counter item.
const CONFLICT_ATTEMPTS: usize = 12;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// Shared by clones, so one function instance keeps one view of recent accounts.
    pub(crate) accounts: std::sync::Arc<points::AccountCache>,
    pub(crate) lookup_keys: std::sync::Arc<lookups::KeyCache>,
}

pub(crate) fn sdk_err<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: SdkError<E>,
) -> StoreError {
    match e.as_service_error() {
        Some(se) => StoreError::Unavailable(format!(
            "dynamodb {}: {}",
            se.code().unwrap_or("error"),
            se.message().unwrap_or("")
        )),
        None => StoreError::Unavailable(format!(
            "dynamodb request failed: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
        )),
    }
}

pub(crate) fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Unavailable(format!("dynamodb request could not be built: {e}"))
}

/// Which items of a cancelled transaction failed their condition.
pub(crate) fn cancelled_conditions<E>(err: &SdkError<E>) -> Option<Vec<bool>>
where
    E: ProvideErrorMetadata + AsCancellation,
{
    err.as_service_error()
        .and_then(AsCancellation::failed_conditions)
}

pub(crate) trait AsCancellation {
    fn failed_conditions(&self) -> Option<Vec<bool>>;
}

impl AsCancellation for aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError {
    fn failed_conditions(&self) -> Option<Vec<bool>> {
        match self {
            Self::TransactionCanceledException(e) => Some(
                e.cancellation_reasons()
                    .iter()
                    .map(|r| r.code() == Some("ConditionalCheckFailed"))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Errors of single-item writes that can fail their condition.
pub(crate) trait ConditionFailed {
    fn condition_failed(&self) -> bool;
}

macro_rules! condition_failed {
    ($($op:ident :: $err:ident),*) => {$(
        impl ConditionFailed for aws_sdk_dynamodb::operation::$op::$err {
            fn condition_failed(&self) -> bool {
                self.is_conditional_check_failed_exception()
            }
        }
    )*};
}
condition_failed!(
    update_item::UpdateItemError,
    delete_item::DeleteItemError,
    put_item::PutItemError
);

/// A conditional write where a failed condition means there is nothing to do: `Ok` then.
pub(crate) fn unless_condition_failed<T, E>(res: Result<T, SdkError<E>>) -> Result<(), StoreError>
where
    E: ConditionFailed + ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Err(e)
            if !e
                .as_service_error()
                .is_some_and(ConditionFailed::condition_failed) =>
        {
            Err(sdk_err(e))
        }
        _ => Ok(()),
    }
}

pub fn profile_pk(tenant: &TenantId, customer: &CustomerId) -> String {
    format!("T#{tenant}#C#{customer}")
}

pub(crate) fn tenant_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}")
}

pub(crate) fn key_pk(key: &ApiKeyHash) -> String {
    format!("KEY#{}", key.as_str())
}

fn identity_pk(tenant: &TenantId, id: &Identity) -> String {
    format!("T#{tenant}#ID#{}#{}", id.platform, id.external_id)
}

/// The `by-last-active` index key: the UTC day of `at`.
/// The `by-tenant` index partition of a customer's profile (8 shards by customer id).
pub(crate) fn customers_pk(tenant: &TenantId, shard: u32) -> String {
    format!("T#{tenant}#CUST#{shard}")
}

pub(crate) fn active_pk(tenant: &TenantId, at: Timestamp) -> String {
    format!("T#{tenant}#ACTIVE#{}", time::utc_day(at))
}

pub(crate) fn key(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), av_s(pk)), ("sk".to_owned(), av_s(sk))])
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            accounts: Default::default(),
            lookup_keys: Default::default(),
        }
    }

    /// Builds a client from the environment (region, credentials); `endpoint` overrides the
    /// service URL (moto in tests, DynamoDB Local).
    pub async fn connect(table: impl Into<String>, endpoint: Option<String>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let conf = loader.load().await;
        Self::new(Client::new(&conf), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub(crate) async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(out.item)
    }

    /// The items of `keys` (any number), read consistently, in no particular order; missing
    /// ones are left out.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(build_err)?;
            let mut pending = HashMap::from([(self.table.clone(), request)]);
            while !pending.is_empty() {
                let res = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                out.extend(
                    res.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = res.unprocessed_keys.unwrap_or_default();
            }
        }
        Ok(out)
    }

    /// One unconditional `PutItem`.
    pub(crate) async fn put_item(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    /// Writes in batches of 25 (the service limit, which moto does not enforce), in order,
    /// retrying unprocessed items with backoff.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut delay = std::time::Duration::from_millis(50);
            for attempt in 0.. {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == 8 {
                    return Err(StoreError::Unavailable(
                        "dynamodb batch write kept throttling".into(),
                    ));
                }
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        Ok(())
    }

    /// One `TransactWriteItems`: `true` when written, `false` when a condition cancelled it
    /// (nothing written).
    pub(crate) async fn transact_applied(
        &self,
        items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match cancelled_conditions(&e) {
                Some(_) => Ok(false),
                None => Err(sdk_err(e)),
            },
        }
    }

    /// Sends a transaction, backing off (jittered) while it only collides with other
    /// transactions on the same items (`TransactionConflict`, as counter shards do under a
    /// burst). `Ok(None)`: written; `Ok(Some(failed))`: a condition failed (`failed[i]` for the
    /// i-th item), nothing written.
    pub(crate) async fn transact_counted(
        &self,
        items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<Option<Vec<bool>>, StoreError> {
        let mut delay_ms = 10;
        for _ in 0..CONFLICT_ATTEMPTS {
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let Err(e) = res else {
                return Ok(None);
            };
            match cancelled_conditions(&e) {
                None => return Err(sdk_err(e)),
                Some(failed) if failed.iter().any(|f| *f) => return Ok(Some(failed)),
                Some(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(crate::points::jitter(
                        delay_ms,
                    )))
                    .await;
                    delay_ms = (delay_ms * 2).min(256);
                }
            }
        }
        Err(StoreError::Conflict)
    }

    /// Every item of partition `pk` with a sort key from `lo` to `hi` (both included), all
    /// pages, strongly consistent.
    pub(crate) async fn query_between(
        &self,
        pk: String,
        lo: String,
        hi: String,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", av_s(pk.clone()))
                .expression_attribute_values(":lo", av_s(lo.clone()))
                .expression_attribute_values(":hi", av_s(hi.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_err)?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// The day rows (`D#{YYYY-MM-DD}`) from `from` to `to` of each sharded counter partition
    /// `pk(shard)`, shard 0 to `shards - 1`, with their days.
    pub(crate) async fn day_rows(
        &self,
        shards: u32,
        pk: impl Fn(u32) -> String,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<(jiff::civil::Date, Item)>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..shards {
            let items = self
                .query_between(pk(shard), format!("D#{from}"), format!("D#{to}"))
                .await?;
            for item in items {
                let day = item::get_s(&item, "sk")
                    .and_then(|sk| sk.strip_prefix("D#"))
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| StoreError::Corrupt("counter row: bad day".into()))?;
                out.push((day, item));
            }
        }
        Ok(out)
    }

    /// Every item of a partition (keys only when `keys_only`).
    pub(crate) async fn query_partition(
        &self,
        pk: String,
        keys_only: bool,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_items(None, pk, None, keys_only).await
    }

    /// Every item of a partition whose sort key starts with `prefix` (all when `None`), all
    /// pages. `index` is `(name, partition key attribute)` of a GSI (eventually consistent);
    /// `None` reads the table itself, consistently.
    pub(crate) async fn query_items(
        &self,
        index: Option<(&str, &str)>,
        pk: String,
        prefix: Option<&str>,
        keys_only: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        let pk_attr = index.map_or("pk", |(_, attr)| attr);
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(|(name, _)| name.to_owned()))
                .expression_attribute_values(":pk", av_s(pk.clone()))
                .consistent_read(index.is_none())
                .set_exclusive_start_key(start);
            q = match prefix {
                Some(p) => q
                    .key_condition_expression(format!("{pk_attr} = :pk AND begins_with(sk, :p)"))
                    .expression_attribute_values(":p", av_s(p)),
                None => q.key_condition_expression(format!("{pk_attr} = :pk")),
            };
            if keys_only {
                q = q.projection_expression("pk, sk");
            }
            let out = q.send().await.map_err(sdk_err)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

impl DynamoStore {
    /// Every string stored under a tenant's keys. For tests proving erasure leaves no PII; it
    /// scans the table, so it is never used on a request path.
    pub async fn dump_tenant_text(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :p)")
                .expression_attribute_values(":p", av_s(format!("T#{tenant}#")))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_err)?;
            for it in page.items.unwrap_or_default() {
                out.push(format!("{it:?}"));
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}
