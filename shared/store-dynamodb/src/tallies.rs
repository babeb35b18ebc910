//! The campaign reports' counters on DynamoDB: `T#{tenant}#CTALLY#{campaign}#{shard}` /
//! `D#{YYYY-MM-DD}`, one number attribute per field added to with `ADD`, inside the
//! transaction of the write it counts. A customer's changes go to one of [`SHARDS`] partitions
//! (by customer), so a broadcast's many concurrent claims neither conflict on one item nor
//! crowd one partition; a report reads `SHARDS` day ranges.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use fanloop_domain::analytics::SHARDS;
use fanloop_domain::campaigns::CampaignRef;
use fanloop_domain::campaigns::tally::{Tally, TallyField, grouped};
use fanloop_domain::ports::StoreError;
use fanloop_domain::surveys::shard_of;
use fanloop_domain::{CustomerId, TenantId};
use jiff::civil::Date;

use crate::points::corrupt;
use crate::{DynamoStore, build_err, key};

fn tally_pk(tenant: &TenantId, campaign: &CampaignRef, shard: u32) -> String {
    format!("T#{tenant}#CTALLY#{campaign}#{shard}")
}

impl DynamoStore {
    /// One `Update` per campaign and day of `changes`, on the customer's shard.
    pub(crate) fn tally_updates(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        changes: &[Tally],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let shard = shard_of(customer.as_str()) % SHARDS;
        let mut out = Vec::new();
        for ((campaign, day), fields) in grouped(changes) {
            let mut names = HashMap::new();
            let mut values = HashMap::new();
            let mut adds = Vec::new();
            for (i, (field, n)) in fields.iter().enumerate() {
                names.insert(format!("#f{i}"), field.name());
                values.insert(format!(":f{i}"), AttributeValue::N(n.to_string()));
                adds.push(format!("#f{i} :f{i}"));
            }
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    tally_pk(tenant, &campaign, shard),
                    &format!("D#{day}"),
                )))
                .update_expression(format!("ADD {}", adds.join(", ")))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(build_err)?;
            out.push(TransactWriteItem::builder().update(update).build());
        }
        Ok(out)
    }

    pub(crate) async fn tally_rows(
        &self,
        tenant: &TenantId,
        campaign: &CampaignRef,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, TallyField, i64)>, StoreError> {
        let mut out = Vec::new();
        for (day, item) in self
            .day_rows(SHARDS, |shard| tally_pk(tenant, campaign, shard), from, to)
            .await?
        {
            for (name, v) in &item {
                // Fields this version does not know (a later one's) are left out.
                if let (AttributeValue::N(n), Some(f)) = (v, TallyField::parse(name)) {
                    out.push((day, f, n.parse().map_err(|e| corrupt("tally", e))?));
                }
            }
        }
        Ok(out)
    }
}

/// Attempts of a transaction that only collides with other writers of a counter item.
const CONFLICT_ATTEMPTS: usize = 12;

impl DynamoStore {
    /// Sends a transaction, backing off (jittered) while it only collides with other
    /// transactions on the same items (`TransactionConflict`, as counter shards do under a
    /// burst). `Ok(None)`: written; `Ok(Some(failed))`: a condition failed (`failed[i]` for the
    /// i-th item), nothing written.
    pub(crate) async fn transact_counted(
        &self,
        items: Vec<TransactWriteItem>,
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
            match crate::cancelled_conditions(&e) {
                None => return Err(crate::sdk_err(e)),
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
}
