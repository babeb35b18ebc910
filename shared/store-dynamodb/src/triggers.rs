//! Campaign triggers on DynamoDB: a trigger record is an item in the customer's partition
//! (`sk = TRIG#{id}`, with `expires_at` for the table's TTL), put in the transaction of the
//! accrual that caused it; a signup is the `PROFILE` item's own INSERT (not one an import
//! created: `no_signup`). The table's stream
//! delivers both to the triggers function (at least once), which reads them back with
//! [`trigger_from_image`]. Erasure deletes the customer's partition, trigger items included.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use fanloop_domain::campaigns::triggers::{
    TRIGGER_TTL_DAYS, TriggerRecord, signup_trigger, unhappy_trigger,
};
use fanloop_domain::ports::{StoreError, TriggerParking};
use fanloop_domain::surveys::FollowUp;
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;

use crate::item::{av_s, get_s, item_to_profile};
use crate::points::to_json;
use crate::{DynamoStore, key, profile_pk};
use crate::{build_err, sdk_err};

/// The sort key prefix of trigger items (the stream's filter reads it too).
pub const TRIGGER_SK_PREFIX: &str = "TRIG#";

impl DynamoStore {
    /// The `Put` of each trigger record, for the caller's transaction.
    pub(crate) fn trigger_items(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        triggers: &[TriggerRecord],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        triggers
            .iter()
            .map(|t| {
                let mut it = key(
                    profile_pk(tenant, customer),
                    &format!("{TRIGGER_SK_PREFIX}{}", t.id),
                );
                it.insert("tenant_id".into(), av_s(tenant.as_str()));
                it.insert("trigger".into(), av_s(to_json("trigger", t)?));
                let expires = t.occurred_at.as_second() + TRIGGER_TTL_DAYS * 86_400;
                it.insert("expires_at".into(), AttributeValue::N(expires.to_string()));
                self.put(it, None)
            })
            .collect()
    }
}

/// The trigger record a stream record's new image carries: a trigger item, a new profile (a
/// signup) or a new follow-up (an unhappy answer). `None` for any other item.
pub fn trigger_from_image(
    image: &HashMap<String, AttributeValue>,
) -> Result<Option<(TenantId, TriggerRecord)>, StoreError> {
    let sk = get_s(image, "sk").unwrap_or_default();
    let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("stream {what}: {e}"));
    if sk.starts_with(TRIGGER_SK_PREFIX) {
        let tenant = TenantId::parse(get_s(image, "tenant_id").unwrap_or_default())
            .map_err(|e| corrupt("tenant", e.to_string()))?;
        let record = serde_json::from_str(get_s(image, "trigger").unwrap_or_default())
            .map_err(|e| corrupt("trigger", e.to_string()))?;
        return Ok(Some((tenant, record)));
    }
    if sk == "PROFILE" {
        if matches!(image.get("no_signup"), Some(AttributeValue::Bool(true))) {
            return Ok(None);
        }
        // `T#{tenant}#C#{customer}`: the profile item names its tenant in its key.
        let pk = get_s(image, "pk").unwrap_or_default();
        let tenant = pk
            .strip_prefix("T#")
            .and_then(|r| r.split_once("#C#"))
            .map(|(t, _)| t)
            .ok_or_else(|| corrupt("profile key", pk.to_owned()))?;
        let tenant = TenantId::parse(tenant).map_err(|e| corrupt("tenant", e.to_string()))?;
        let profile = item_to_profile(image)?;
        let at = profile.created_at;
        return Ok(signup_trigger(true, &profile, at).map(|t| (tenant, t)));
    }
    if sk == "FOLLOWUP" {
        // `T#{tenant}#FOLLOWUP#{id}`.
        let pk = get_s(image, "pk").unwrap_or_default();
        let tenant = pk
            .strip_prefix("T#")
            .and_then(|r| r.split_once("#FOLLOWUP#"))
            .map(|(t, _)| t)
            .ok_or_else(|| corrupt("follow-up key", pk.to_owned()))?;
        let tenant = TenantId::parse(tenant).map_err(|e| corrupt("tenant", e.to_string()))?;
        let f: FollowUp = serde_json::from_str(get_s(image, "doc").unwrap_or_default())
            .map_err(|e| corrupt("follow-up", e.to_string()))?;
        return Ok(unhappy_trigger(&f).map(|t| (tenant, t)));
    }
    Ok(None)
}

/// The tenant's parked triggers: `T#{tenant}#PARKED`, sort key `{not_before ms, 13 digits}#
/// {customer}#{id}`; the customer's partition holds a pointer `PARKED#{id}` (with `at`) so
/// erasure finds it. One partition per tenant: parking happens only for sends that fall in
/// quiet hours.
fn parked_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#PARKED")
}

fn parked_sk(at: Timestamp, r: &TriggerRecord) -> String {
    format!(
        "{:013}#{}#{}",
        at.as_millisecond().max(0),
        r.customer_id,
        r.id
    )
}

/// The key of the parked item a customer's pointer names (for erasure).
pub(crate) fn parked_key_of(
    tenant: &TenantId,
    pointer: &HashMap<String, AttributeValue>,
) -> Option<HashMap<String, AttributeValue>> {
    get_s(pointer, "parked_sk").map(|sk| key(parked_pk(tenant), sk))
}

impl DynamoStore {
    /// A transaction's unconditional `Delete` of `k`.
    pub(crate) fn delete_op(
        &self,
        k: HashMap<String, AttributeValue>,
    ) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(k))
                    .build()
                    .map_err(build_err)?,
            )
            .build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }
}

#[async_trait]
impl TriggerParking for DynamoStore {
    async fn park_trigger(
        &self,
        tenant: &TenantId,
        record: &TriggerRecord,
        not_before: Timestamp,
    ) -> Result<(), StoreError> {
        let pointer_key = key(
            profile_pk(tenant, &record.customer_id),
            &format!("PARKED#{}", record.id),
        );
        let mut items = Vec::new();
        let sk = parked_sk(not_before, record);
        if let Some(old) = self
            .get(
                profile_pk(tenant, &record.customer_id),
                &format!("PARKED#{}", record.id),
            )
            .await?
            && let Some(k) = parked_key_of(tenant, &old)
            && get_s(&old, "parked_sk") != Some(sk.as_str())
        {
            items.push(self.delete_op(k)?);
        }
        let expires = record.occurred_at.as_second() + TRIGGER_TTL_DAYS * 86_400;
        let mut parked = key(parked_pk(tenant), &sk);
        parked.insert("trigger".into(), av_s(to_json("trigger", record)?));
        parked.insert("expires_at".into(), AttributeValue::N(expires.to_string()));
        let mut pointer = pointer_key;
        pointer.insert("parked_sk".into(), av_s(sk));
        pointer.insert("expires_at".into(), AttributeValue::N(expires.to_string()));
        items.push(self.put(parked, None)?);
        items.push(self.put(pointer, None)?);
        self.transact(items).await
    }

    async fn parked_triggers(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, TriggerRecord)>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk <= :to")
            .expression_attribute_values(":pk", av_s(parked_pk(tenant)))
            .expression_attribute_values(
                ":to",
                av_s(format!("{:013}#~", now.as_millisecond().max(0))),
            )
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(100))
            .send()
            .await
            .map_err(sdk_err)?;
        let corrupt = |e: String| StoreError::Corrupt(format!("parked trigger: {e}"));
        out.items
            .unwrap_or_default()
            .iter()
            .map(|i| {
                let sk = get_s(i, "sk").unwrap_or_default();
                let ms: i64 = sk
                    .split('#')
                    .next()
                    .and_then(|m| m.parse().ok())
                    .ok_or_else(|| corrupt(sk.to_owned()))?;
                let at = Timestamp::from_millisecond(ms).map_err(|e| corrupt(e.to_string()))?;
                let rec = serde_json::from_str(get_s(i, "trigger").unwrap_or_default())
                    .map_err(|e| corrupt(e.to_string()))?;
                Ok((at, rec))
            })
            .collect()
    }

    async fn unpark_trigger(
        &self,
        tenant: &TenantId,
        record: &TriggerRecord,
        not_before: Timestamp,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            self.delete_op(key(parked_pk(tenant), &parked_sk(not_before, record)))?,
            self.delete_op(key(
                profile_pk(tenant, &record.customer_id),
                &format!("PARKED#{}", record.id),
            ))?,
        ])
        .await
    }
}
