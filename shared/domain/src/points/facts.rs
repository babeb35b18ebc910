//! What an accrual says about the business behind it — the item bought, the streamer a gift went
//! to, the platform, the order — kept with its ledger entry so behaviour can be reported on
//! after the points are computed. Amounts are exact integers (minor units, coins, minutes).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::UnitCode;
use crate::ids::{ExternalId, Platform};
use crate::values::{DisplayName, Tag};

crate::wire_struct! {
    /// The item of a purchase.
    #[derive(serde::Serialize, PartialEq, Eq)]
    pub struct Item {
        /// Your SKU of the item.
        pub sku: ExternalId,
        /// Its display name (1–200 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<DisplayName>,
        /// A category to report on (`skins`, `battle-pass`): 1–64 of the id alphabet.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub category: Option<Tag>,
    }
}

/// Where and about what an accrual happened, as the caller said (every field optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    /// The streamer a gift went to, or whose stream was watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub streamer_id: Option<ExternalId>,
    /// The live room of a gift or watch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub room_id: Option<ExternalId>,
    /// Where it happened (`ios`, `android`, `steam`, `web`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub platform: Option<Platform>,
    /// Your order id (purchases and gifts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub order_id: Option<ExternalId>,
}

impl Context {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The commercial facts of a ledger entry: what the accrual reported, and its context.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Facts {
    /// A purchase's amount in minor units of `currency`, or a gift's coins of `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<UnitCode>,
    /// Watch minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u64>,
    #[serde(flatten)]
    pub context: Context,
}

impl Facts {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The facts with every link to the person removed (erasure): the amounts, the item, the
    /// streamer, the room and the platform stay so the studio's figures still add up; the order
    /// id, which the studio's own systems tie to the customer, goes.
    pub fn anonymised(&self) -> Self {
        let mut f = self.clone();
        f.context.order_id = None;
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_read_flat_and_drop_the_order_when_anonymised() {
        let f: Facts = serde_json::from_value(json!({
            "amount_minor": 499, "currency": "USD",
            "item": {"sku": "gem-pack", "category": "gems"},
            "platform": "ios", "order_id": "o-1"
        }))
        .unwrap();
        assert_eq!(f.context.item.as_ref().unwrap().sku.as_str(), "gem-pack");
        let a = serde_json::to_value(f.anonymised()).unwrap();
        assert_eq!(
            a,
            json!({"amount_minor": 499, "currency": "USD",
                   "item": {"sku": "gem-pack", "category": "gems"}, "platform": "ios"})
        );
        assert!(Facts::default().is_empty());
    }
}
