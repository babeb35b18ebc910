//! The campaign reports' counters on DynamoDB: `T#{tenant}#CTALLY#{campaign}#{shard}` /
//! `D#{YYYY-MM-DD}`, one number attribute per field added to with `ADD`, inside the
//! transaction of the write it counts. A customer's changes go to one of [`SHARDS`] partitions
//! (by customer), so a broadcast's many concurrent claims neither conflict on one item nor
//! crowd one partition; a report reads `SHARDS` day ranges.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use fanloop_domain::analytics::SHARDS;
use fanloop_domain::campaigns::CampaignRef;
use fanloop_domain::campaigns::tally::{Tally, TallyField, grouped};
use fanloop_domain::ports::StoreError;
use fanloop_domain::surveys::shard_of;
use fanloop_domain::{CustomerId, TenantId};
use jiff::civil::Date;

use crate::points::corrupt;
use crate::{DynamoStore, key};

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
        grouped(changes)
            .into_iter()
            .map(|((campaign, day), fields)| {
                let adds: Vec<(String, i64)> = fields.iter().map(|(f, n)| (f.name(), *n)).collect();
                self.counter_update(
                    key(tally_pk(tenant, &campaign, shard), &format!("D#{day}")),
                    &adds,
                    &[],
                )
            })
            .collect()
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
