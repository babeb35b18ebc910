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

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, Put, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::export::CustomerExport;
use fanloop_domain::ports::{
    CreateTenantError, Erased, ProfileStore, StoreError, TenantStore, UpsertError, Upserted,
    VersionedSettings,
};
use fanloop_domain::profile::{IDENTITIES_MAX, Identity, Profile, ProfilePatch};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKeyHash, Tenant};
use fanloop_domain::{CustomerId, TenantId, time};
use jiff::Timestamp;

mod backlog;
mod campaigns;
mod events;
mod item;
mod points;
mod surveys;
mod update;

use item::{Item, av_s, get_s, item_to_profile};
use update::UpdateBuilder;

/// How often an optimistic read-modify-write is retried when a concurrent write wins.
const OPTIMISTIC_ATTEMPTS: usize = 8;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// Shared by clones, so one function instance keeps one view of recent accounts.
    pub(crate) accounts: std::sync::Arc<points::AccountCache>,
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

pub fn profile_pk(tenant: &TenantId, customer: &CustomerId) -> String {
    format!("T#{tenant}#C#{customer}")
}

pub(crate) fn tenant_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}")
}

fn key_pk(key: &ApiKeyHash) -> String {
    format!("KEY#{}", key.as_str())
}

fn identity_pk(tenant: &TenantId, id: &Identity) -> String {
    format!("T#{tenant}#ID#{}#{}", id.platform, id.external_id)
}

/// The `by-last-active` index key: the UTC day of `at`.
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

    /// The plain upsert: one `UpdateItem` round trip, merge done by the update expression.
    async fn upsert_plain(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        let u = UpdateBuilder::for_upsert(tenant, customer, patch, now);
        let (expr, names, values) = u.finish();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .update_expression(expr)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(sdk_err)?;
        let item = out.attributes.unwrap_or_default();
        let created = item::get_n(&item, "rev") == Some(1);
        Ok(Upserted {
            profile: item_to_profile(&item)?,
            created,
        })
    }

    /// An upsert that links identities: read, merge with the domain rule, then one transaction
    /// that claims each new identity (`attribute_not_exists` or already ours) and updates the
    /// profile only if nobody changed it since the read (`rev`).
    async fn upsert_linking(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        let pk = profile_pk(tenant, customer);
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let existing = self.get(pk.clone(), "PROFILE").await?;
            let rev = existing.as_ref().and_then(|i| item::get_n(i, "rev"));
            let before = match &existing {
                Some(i) => Some(item_to_profile(i)?),
                None => None,
            };
            let created = before.is_none();
            let mut profile = before
                .clone()
                .unwrap_or_else(|| Profile::new(customer.clone(), now));
            let old_ids = profile.identities.clone();
            profile.apply(patch, now);
            if profile.identities.len() > IDENTITIES_MAX {
                return Err(UpsertError::TooManyIdentities);
            }
            let new_ids: Vec<Identity> = profile
                .identities
                .iter()
                .filter(|i| !old_ids.contains(i))
                .cloned()
                .collect();

            let mut u = UpdateBuilder::for_upsert(tenant, customer, patch, now);
            u.add_identities(&new_ids);
            match rev {
                Some(r) => u.condition_rev(r),
                None => u.condition_new(),
            }
            let (expr, names, values, cond) = u.finish_with_condition();
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(pk.clone(), "PROFILE")))
                            .update_expression(expr)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values(Some(values))
                            .condition_expression(cond)
                            .build()
                            .map_err(build_err)?,
                    )
                    .build(),
            ];
            for id in &new_ids {
                let mut it = key(identity_pk(tenant, id), "IDENTITY");
                it.insert("customer_id".into(), av_s(customer.as_str()));
                it.insert("platform".into(), av_s(id.platform.as_str()));
                it.insert("external_id".into(), av_s(id.external_id.as_str()));
                items.push(
                    TransactWriteItem::builder()
                        .put(
                            Put::builder()
                                .table_name(&self.table)
                                .set_item(Some(it))
                                .condition_expression(
                                    "attribute_not_exists(pk) OR customer_id = :c",
                                )
                                .expression_attribute_values(":c", av_s(customer.as_str()))
                                .build()
                                .map_err(build_err)?,
                        )
                        .build(),
                );
            }
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => return Ok(Upserted { profile, created }),
                Err(e) => match cancelled_conditions(&e) {
                    Some(failed) => {
                        if let Some(pos) = failed.iter().skip(1).position(|f| *f) {
                            return Err(UpsertError::IdentityTaken(new_ids[pos].clone()));
                        }
                        // The profile changed under us: read again and retry.
                        continue;
                    }
                    None => return Err(sdk_err(e).into()),
                },
            }
        }
        Err(StoreError::Conflict.into())
    }
}

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

#[async_trait]
impl ProfileStore for DynamoStore {
    async fn upsert_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        if patch.identities.is_empty() {
            self.upsert_plain(tenant, customer, patch, now).await
        } else {
            self.upsert_linking(tenant, customer, patch, now).await
        }
    }

    async fn profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<Profile>, StoreError> {
        self.get(profile_pk(tenant, customer), "PROFILE")
            .await?
            .map(|i| item_to_profile(&i))
            .transpose()
    }

    async fn customer_for_identity(
        &self,
        tenant: &TenantId,
        identity: &Identity,
    ) -> Result<Option<CustomerId>, StoreError> {
        let Some(item) = self.get(identity_pk(tenant, identity), "IDENTITY").await? else {
            return Ok(None);
        };
        CustomerId::parse(get_s(&item, "customer_id").unwrap_or_default())
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("identity: {e}")))
    }

    async fn unlink_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        identity: &Identity,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let del = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(identity_pk(tenant, identity), "IDENTITY")))
            .condition_expression("customer_id = :c")
            .expression_attribute_values(":c", av_s(customer.as_str()))
            .build()
            .map_err(build_err)?;
        let upd = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .update_expression("DELETE idents :id SET updated_at = :now, rev = rev + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":id",
                AttributeValue::Ss(vec![item::identity_token(identity)]),
            )
            .expression_attribute_values(":now", av_s(time::format(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().delete(del).build(),
            TransactWriteItem::builder().update(upd).build(),
        ];
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

    async fn record_activity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        activity: Activity,
    ) -> Result<bool, StoreError> {
        let at = activity.at;
        self.mark_late(tenant, customer, activity).await?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(profile_pk(tenant, customer), "PROFILE")))
            .update_expression("SET last_active_at = :t, gsi2pk = :day, gsi2sk = :c ADD account_rev :one")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(last_active_at) OR last_active_at < :t)")
            .expression_attribute_values(":t", av_s(time::format(at)))
            .expression_attribute_values(":day", av_s(active_pk(tenant, at)))
            .expression_attribute_values(":c", av_s(customer.as_str()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                // The old item comes back when the customer exists but was active later already.
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)) => {
                    Ok(c.item().is_some_and(|i| !i.is_empty()))
                }
                _ => Err(sdk_err(e)),
            },
        }
    }

    async fn export_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerExport>, StoreError> {
        let items = self
            .query_partition(profile_pk(tenant, customer), false)
            .await?;
        let Some(profile_item) = items.iter().find(|i| get_s(i, "sk") == Some("PROFILE")) else {
            return Ok(None);
        };
        let mut ledger = items
            .iter()
            .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with("POST#")))
            .map(points::item_to_entry)
            .collect::<Result<Vec<_>, _>>()?;
        ledger.sort_by_key(|e| e.seq);
        let mut coupons = Vec::new();
        for code in items
            .iter()
            .filter_map(|i| get_s(i, "sk").and_then(|sk| sk.strip_prefix("COUPON#")))
        {
            if let Some(c) = self.get(points::coupon_pk(tenant, code), "COUPON").await? {
                coupons.push(points::item_to_coupon(&c)?);
            }
        }
        let (survey_responses, followups) = self.surveys_from_items(tenant, &items).await?;
        let mut events = items
            .iter()
            .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with("EVENT#")))
            .map(events::item_to_event)
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|e| e.sort_key());
        Ok(Some(CustomerExport {
            profile: item_to_profile(profile_item)?,
            ledger,
            coupons,
            messages: campaigns::messages_from(&items)?,
            survey_responses,
            followups,
            events,
        }))
    }

    async fn erase_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        anonymous: &str,
    ) -> Result<Option<Erased>, StoreError> {
        let pk = profile_pk(tenant, customer);
        self.accounts.forget(&pk);
        let Some(profile) = self.profile(tenant, customer).await? else {
            return Ok(None);
        };
        // Identity claims first (each only if still ours), then the ledger copied under the
        // anonymous id, coupons voided, and the customer's partition last with the profile at
        // the very end, so an interrupted erasure is finished by running it again.
        for id in &profile.identities {
            let res = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(identity_pk(tenant, id), "IDENTITY")))
                .condition_expression("customer_id = :c")
                .expression_attribute_values(":c", av_s(customer.as_str()))
                .send()
                .await;
            if let Err(e) = res
                && !e
                    .as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
            {
                return Err(sdk_err(e));
            }
        }
        let items = self.query_partition(pk, false).await?;
        let message_ids = campaigns::messages_from(&items)?
            .into_iter()
            .map(|m| m.id)
            .collect();
        self.anonymise_surveys(tenant, &items).await?;
        let anon_pk = format!("T#{tenant}#C#{anonymous}");
        let mut writes = Vec::new();
        let mut deletes = Vec::new();
        for item in &items {
            let sk = get_s(item, "sk").unwrap_or_default();
            if sk.starts_with("POST#") {
                let mut copy = item.clone();
                copy.insert("pk".into(), av_s(anon_pk.clone()));
                // The stored answer may name the customer; an erased ledger needs no replays.
                copy.remove("result");
                copy.remove("fingerprint");
                let entry = points::item_to_entry(item)?.anonymised();
                copy.insert(
                    "entry".into(),
                    av_s(points::to_json("ledger entry", &entry)?),
                );
                writes.push(
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(copy))
                                .build()
                                .map_err(build_err)?,
                        )
                        .build(),
                );
            }
            if let Some(code) = sk.strip_prefix("COUPON#") {
                deletes.push(key(points::coupon_pk(tenant, code), "COUPON"));
            }
            if sk != "PROFILE" {
                deletes.push(
                    item.iter()
                        .filter(|(k, _)| *k == "pk" || *k == "sk")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
            }
        }
        deletes.push(backlog::late_key(tenant, customer));
        deletes.push(key(profile_pk(tenant, customer), "PROFILE"));
        self.batch_write(writes).await?;
        let deletes = deletes
            .into_iter()
            .map(|k| {
                DeleteRequest::builder()
                    .set_key(Some(k))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_err)?;
        self.batch_write(deletes).await?;
        Ok(Some(Erased { message_ids }))
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
