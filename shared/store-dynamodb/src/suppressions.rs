//! The suppression list: `T#{tenant}#SUPP` / `H#{address_hash}` with `state` (JSON: only the
//! keyed hash, soft bounces and the suppression), `rev` and `suppressed` (1 when on the list).
//! A send reads one item; the list is a Query of the partition in hash order. The provider's
//! news on a message is the `delivery` attribute of its `SENT#` marker (apart from `msg`,
//! which the send rewrites).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::campaigns::Message;
use fanloop_domain::deliverability::{AddressHash, AddressState, MessageDelivery};
use fanloop_domain::ports::{AddressFn, StoreError, SuppressionStore};
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{Item, av_s, get_n, get_s};
use crate::points::to_json;
use crate::{ConditionFailed, DynamoStore, OPTIMISTIC_ATTEMPTS, key, profile_pk, sdk_err};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn supp_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#SUPP")
}

fn supp_sk(hash: &AddressHash) -> String {
    format!("H#{hash}")
}

fn item_state(item: &Item) -> Result<AddressState, StoreError> {
    let doc = get_s(item, "state").ok_or_else(|| corrupt("suppression", "no state"))?;
    serde_json::from_str(doc).map_err(|e| corrupt("suppression", e))
}

/// The message of a `SENT#` item with the provider's news, if any.
pub(crate) fn with_delivery(mut m: Message, item: &Item) -> Result<Message, StoreError> {
    if let Some(d) = get_s(item, "delivery") {
        m.delivery = Some(serde_json::from_str(d).map_err(|e| corrupt("delivery", e))?);
    }
    Ok(m)
}

fn failed<E: ConditionFailed>(e: &aws_sdk_dynamodb::error::SdkError<E>) -> bool {
    e.as_service_error()
        .is_some_and(ConditionFailed::condition_failed)
}

#[async_trait]
impl SuppressionStore for DynamoStore {
    async fn address(
        &self,
        tenant: &TenantId,
        hash: &AddressHash,
    ) -> Result<Option<AddressState>, StoreError> {
        self.get(supp_pk(tenant), &supp_sk(hash))
            .await?
            .map(|i| item_state(&i))
            .transpose()
    }

    async fn update_address(
        &self,
        tenant: &TenantId,
        hash: &AddressHash,
        change: AddressFn,
    ) -> Result<Option<AddressState>, StoreError> {
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let item = self.get(supp_pk(tenant), &supp_sk(hash)).await?;
            let before = item.as_ref().map(item_state).transpose()?;
            let rev = item.as_ref().and_then(|i| get_n(i, "rev")).unwrap_or(0);
            let Some(after) = change(before.as_ref()) else {
                return Ok(None);
            };
            let mut it = key(supp_pk(tenant), &supp_sk(hash));
            it.insert("state".into(), av_s(to_json("suppression", &after)?));
            it.insert("rev".into(), AttributeValue::N((rev + 1).to_string()));
            it.insert(
                "suppressed".into(),
                AttributeValue::N(u8::from(after.is_suppressed()).to_string()),
            );
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(it));
            put = if rev == 0 {
                put.condition_expression("attribute_not_exists(pk)")
            } else {
                put.condition_expression("rev = :rev")
                    .expression_attribute_values(":rev", AttributeValue::N(rev.to_string()))
            };
            match put.send().await {
                Ok(_) => return Ok(Some(after)),
                // Another event about the address came first: decide again on its state.
                Err(e) if failed(&e) => continue,
                Err(e) => return Err(sdk_err(e)),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn suppressions(
        &self,
        tenant: &TenantId,
        after: Option<&AddressHash>,
        limit: usize,
    ) -> Result<Vec<AddressState>, StoreError> {
        let mut out = Vec::new();
        let mut start = after.map(|h| key(supp_pk(tenant), &supp_sk(h)));
        loop {
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :h)")
                .filter_expression("suppressed = :one")
                .expression_attribute_values(":pk", av_s(supp_pk(tenant)))
                .expression_attribute_values(":h", av_s("H#"))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err)?;
            for i in res.items.unwrap_or_default() {
                out.push(item_state(&i)?);
                if out.len() == limit {
                    return Ok(out);
                }
            }
            start = res.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn delete_address(
        &self,
        tenant: &TenantId,
        hash: &AddressHash,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(supp_pk(tenant), &supp_sk(hash))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(res.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn record_delivery(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        message_id: &str,
        delivery: &MessageDelivery,
    ) -> Result<bool, StoreError> {
        let pk = profile_pk(tenant, customer);
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let items = self
                .query_items(None, pk.clone(), Some("SENT#"), false)
                .await?;
            let found = items.iter().find_map(|i| {
                let doc = get_s(i, "msg")?;
                let m: Message = serde_json::from_str(doc).ok()?;
                (m.id == message_id).then_some((i, m))
            });
            let Some((item, m)) = found else {
                return Ok(false);
            };
            let m = with_delivery(m, item)?;
            if !delivery.replaces(m.delivery.as_ref()) {
                return Ok(true);
            }
            let sk = get_s(item, "sk").unwrap_or_default().to_owned();
            let mut upd = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), &sk)))
                .update_expression("SET delivery = :d")
                .expression_attribute_values(":d", av_s(to_json("delivery", delivery)?));
            upd = match get_s(item, "delivery") {
                Some(old) => upd
                    .condition_expression("delivery = :old")
                    .expression_attribute_values(":old", av_s(old)),
                None => upd.condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(delivery)",
                ),
            };
            match upd.send().await {
                Ok(_) => return Ok(true),
                Err(e) if failed(&e) => continue,
                Err(e) => return Err(sdk_err(e)),
            }
        }
        Err(StoreError::Conflict)
    }
}
