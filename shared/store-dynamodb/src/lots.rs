//! The lot-month index: `T#{tenant}#LOTS#{YYYY-MM}#{shard}` / `C#{customer}` (keys only, 8
//! shards by customer), one item per customer and month of a lot holding points, put or
//! deleted in the account's own transaction when the months change (most accruals add to a
//! month already indexed and write none). A run reads a month's 8 partitions.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use fanloop_domain::ports::{LotIndex, StoreError};
use fanloop_domain::surveys::shard_of;
use fanloop_domain::{CustomerId, TenantId};

use crate::item::{Item, get_s};
use crate::{DynamoStore, key, sdk_err};

fn lots_pk(tenant: &TenantId, month: &str, shard: u32) -> String {
    format!("T#{tenant}#LOTS#{month}#{shard}")
}

/// The key of the customer's entry under `month`.
pub(crate) fn lot_key(tenant: &TenantId, month: &str, customer: &CustomerId) -> Item {
    key(
        lots_pk(tenant, month, shard_of(customer.as_str())),
        &format!("C#{customer}"),
    )
}

impl DynamoStore {
    /// The index changes of an account write, for its transaction.
    pub(crate) fn lot_items(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut out = Vec::new();
        for m in before.difference(after) {
            out.push(self.delete_op(lot_key(tenant, m, customer))?);
        }
        for m in after.difference(before) {
            out.push(self.put(lot_key(tenant, m, customer), None)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl LotIndex for DynamoStore {
    async fn customers_with_lot(
        &self,
        tenant: &TenantId,
        month: &str,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..fanloop_domain::analytics::SHARDS {
            let mut start: Option<Item> = None;
            loop {
                let res = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(
                        ":pk",
                        AttributeValue::S(lots_pk(tenant, month, shard)),
                    )
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(sdk_err)?;
                for i in res.items.unwrap_or_default() {
                    let id = get_s(&i, "sk")
                        .and_then(|s| s.strip_prefix("C#"))
                        .unwrap_or("");
                    out.push(
                        CustomerId::parse(id)
                            .map_err(|e| StoreError::Corrupt(format!("lot index: {e}")))?,
                    );
                }
                start = res.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }
}
