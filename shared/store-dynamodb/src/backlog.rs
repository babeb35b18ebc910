//! The win-back backlog in DynamoDB.
//!
//! - Where the day pass stands: `T#{tenant}` / `WINBACK_BACKLOG`, the pass as JSON.
//! - Late activity markers: `T#{tenant}#WBLATE#{shard}` / `C#{customer}` with the marked `day`,
//!   sharded like the survey counters so an import of many customers with old activity spreads
//!   over partitions. Written before the activity itself, so a failure in between leaves at
//!   worst a marker for a customer who is not late (the run finds them not due and clears it).

use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::campaigns::backlog::{Activity, LateActive, WinbackBacklog};
use fanloop_domain::ports::StoreError;
use fanloop_domain::surveys::{SHARDS, shard_of};
use fanloop_domain::{CustomerId, TenantId, time};

use crate::item::{av_s, get_s};
use crate::{DynamoStore, key, sdk_err, tenant_pk};

const PASS_SK: &str = "WINBACK_BACKLOG";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn late_pk(tenant: &TenantId, shard: u32) -> String {
    format!("T#{tenant}#WBLATE#{shard}")
}

/// The key of a customer's late-activity marker (erasure deletes it).
pub(crate) fn late_key(
    tenant: &TenantId,
    customer: &CustomerId,
) -> std::collections::HashMap<String, AttributeValue> {
    key(
        late_pk(tenant, shard_of(customer.as_str())),
        &format!("C#{customer}"),
    )
}

impl DynamoStore {
    /// Marks the customer for the backlog when `activity` is late (one idempotent put).
    pub(crate) async fn mark_late(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        activity: Activity,
    ) -> Result<(), StoreError> {
        if !activity.late {
            return Ok(());
        }
        let mut item = late_key(tenant, customer);
        item.insert("customer_id".into(), av_s(customer.as_str()));
        item.insert("day".into(), av_s(time::utc_day(activity.at)));
        self.put_item(item).await
    }

    pub(crate) async fn load_pass(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WinbackBacklog>, StoreError> {
        let Some(item) = self.get(tenant_pk(tenant), PASS_SK).await? else {
            return Ok(None);
        };
        let doc = get_s(&item, "pass").ok_or_else(|| corrupt("winback backlog", "no pass"))?;
        serde_json::from_str(doc)
            .map(Some)
            .map_err(|e| corrupt("winback backlog", e))
    }

    pub(crate) async fn save_pass(
        &self,
        tenant: &TenantId,
        pass: Option<&WinbackBacklog>,
    ) -> Result<(), StoreError> {
        let k = key(tenant_pk(tenant), PASS_SK);
        match pass {
            Some(p) => {
                let mut item = k;
                let doc = serde_json::to_string(p).map_err(|e| corrupt("winback backlog", e))?;
                item.insert("pass".into(), av_s(doc));
                self.put_item(item).await
            }
            None => self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(k))
                .send()
                .await
                .map(|_| ())
                .map_err(sdk_err),
        }
    }

    /// Up to `limit` markers, read shard by shard, one page at a time.
    pub(crate) async fn late(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<LateActive>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..SHARDS {
            let mut start = None;
            while out.len() < limit {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", av_s(late_pk(tenant, shard)))
                    .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                for item in page.items() {
                    let customer = get_s(item, "customer_id").unwrap_or_default();
                    let day = get_s(item, "day").unwrap_or_default();
                    out.push(LateActive {
                        customer_id: CustomerId::parse(customer)
                            .map_err(|e| corrupt("late customer id", e))?,
                        day: day.parse().map_err(|e| corrupt("late day", e))?,
                    });
                }
                start = page.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Deletes each marker only if it is still for the day that was read.
    pub(crate) async fn clear_late(
        &self,
        tenant: &TenantId,
        done: &[LateActive],
    ) -> Result<(), StoreError> {
        for l in done {
            let res = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(late_key(tenant, &l.customer_id)))
                .condition_expression("#d = :d")
                .expression_attribute_names("#d", "day")
                .expression_attribute_values(":d", av_s(l.day.to_string()))
                .send()
                .await;
            crate::unless_condition_failed(res)?;
        }
        Ok(())
    }
}
