//! Catalogue rewards' stock: `T#{tenant}#REWARDS` / `R#{reward_id}` with `redeemed`, one item
//! per reward that has a stock, `ADD`ed in the redemption's transaction under the condition
//! that the stock is not taken (only rewards with a stock write it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use fanloop_domain::TenantId;
use fanloop_domain::points::StockClaim;
use fanloop_domain::ports::{RewardStock, StoreError};

use crate::item::{get_n, get_s};
use crate::{DynamoStore, build_err, key};

fn rewards_pk(tenant: &TenantId) -> String {
    format!("T#{tenant}#REWARDS")
}

impl DynamoStore {
    /// The stock claim of a redemption, for its transaction: fails its condition once
    /// `claim.stock` redemptions were counted.
    pub(crate) fn stock_item(
        &self,
        tenant: &TenantId,
        claim: &StockClaim,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                rewards_pk(tenant),
                &format!("R#{}", claim.reward_id),
            )))
            .update_expression("ADD redeemed :one")
            .condition_expression("attribute_not_exists(redeemed) OR redeemed < :stock")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":stock", AttributeValue::N(claim.stock.to_string()))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl RewardStock for DynamoStore {
    async fn rewards_redeemed(
        &self,
        tenant: &TenantId,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        Ok(self
            .query_partition(rewards_pk(tenant), false)
            .await?
            .iter()
            .filter_map(|i| {
                let id = get_s(i, "sk")?.strip_prefix("R#")?;
                Some((id.to_owned(), get_n(i, "redeemed").unwrap_or(0)))
            })
            .collect())
    }
}
