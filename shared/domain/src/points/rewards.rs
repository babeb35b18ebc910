//! The reward catalogue (settings `rewards`): what points buy, at the price and coupon value the
//! tenant set. A caller names a reward; it never chooses what the coupon is worth.

use std::collections::BTreeSet;

use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::{Account, RedeemOutcome};
use super::rules::{MAX_AMOUNT, MAX_POINTS, PointsSettings, TierName, UnitCode};
use crate::error::ValidationErrors;
use crate::ids::check_id;
use crate::string_newtype;
use crate::values::DisplayName;

/// At most this many rewards in a catalogue.
pub const REWARDS_MAX: usize = 200;
/// The largest stock or per-customer limit a reward may have.
pub const MAX_STOCK: u32 = 100_000_000;

string_newtype!(
    /// A reward's id, 1–64 of the id alphabet (`skin-gold-10`).
    RewardId,
    schema: { pattern: crate::ids::id_pattern(64) },
    |s| check_id(&s, 64).map(|_| s)
);

/// The coupon a reward mints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardCoupon {
    /// In minor units of `currency`.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_u64)]
    pub value_minor: u64,
    #[schema(value_type = String)]
    pub currency: UnitCode,
    /// Days the coupon is valid from the redemption; default 30.
    #[serde(default = "default_valid_days")]
    #[schema(minimum = 1, maximum = 3650)]
    pub valid_days: u32,
}

fn default_valid_days() -> u32 {
    30
}

/// One reward of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    #[schema(value_type = String)]
    pub reward_id: RewardId,
    #[schema(value_type = String)]
    pub name: DisplayName,
    /// What it costs in points.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub points_cost: u64,
    pub coupon: RewardCoupon,
    /// How many can be redeemed in all, over every customer (absent: no limit). Raising it
    /// makes more available; redemptions so far are counted by the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub stock: Option<u32>,
    /// How many one customer may redeem, ever (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub per_customer_limit: Option<u32>,
    /// Only customers in these tiers may redeem it (absent or empty: every tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tiers: Option<BTreeSet<TierName>>,
}

/// Why a reward cannot be redeemed (nothing is written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewardDecline {
    #[error("no such reward in the catalogue")]
    Unknown,
    #[error("the reward is not for the customer's tier")]
    NotForTier,
    #[error("the customer has redeemed this reward {limit} times, its limit")]
    LimitReached { limit: u32 },
    #[error("the reward is out of stock")]
    OutOfStock,
    #[error("insufficient points: {balance} available")]
    Insufficient { balance: i64 },
}

/// A claim on a reward's stock, taken by the store in the same atomic step as the account
/// change: it fails the whole step once `stock` redemptions were counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockClaim {
    pub reward_id: RewardId,
    pub stock: u32,
}

/// A reward with what was redeemed of its stock, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RewardListing {
    #[serde(flatten)]
    pub reward: Reward,
    /// Redemptions counted against `stock` (rewards with a stock only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redeemed: Option<u64>,
    /// `stock` less `redeemed`, never below 0 (rewards with a stock only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

impl Reward {
    /// The stock claim a redemption takes, if the reward has a stock.
    pub fn stock_claim(&self) -> Option<StockClaim> {
        self.stock.map(|stock| StockClaim {
            reward_id: self.reward_id.clone(),
            stock,
        })
    }

    /// The catalogue entry with its counted redemptions (`redeemed`: the store's count).
    pub fn listing(&self, redeemed: u64) -> RewardListing {
        let counted = self.stock.map(|_| redeemed);
        RewardListing {
            reward: self.clone(),
            redeemed: counted,
            remaining: self.stock.map(|s| u64::from(s).saturating_sub(redeemed)),
        }
    }
}

impl Account {
    /// Spends `reward`'s cost for it, if the customer's tier and own limit allow: the rules a
    /// single account decides. The tenant-wide stock is the store's to count
    /// ([`Reward::stock_claim`]), except a stock of 0, which nothing can claim.
    pub fn redeem_reward(
        &mut self,
        key: &str,
        reward: &Reward,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<RedeemOutcome, RewardDecline> {
        if let Some(tiers) = reward.tiers.as_ref().filter(|t| !t.is_empty())
            && !tiers.contains(&self.view(s, now, tz).tier)
        {
            return Err(RewardDecline::NotForTier);
        }
        let id = reward.reward_id.as_str();
        let taken = self.rewards_redeemed.get(id).copied().unwrap_or(0);
        if let Some(limit) = reward.per_customer_limit
            && taken >= limit
        {
            return Err(RewardDecline::LimitReached { limit });
        }
        if reward.stock == Some(0) {
            return Err(RewardDecline::OutOfStock);
        }
        let out = self
            .redeem(key, reward.points_cost, s, now, tz)
            .map_err(|i| RewardDecline::Insufficient { balance: i.balance })?;
        self.rewards_redeemed.insert(id.to_owned(), taken + 1);
        Ok(out)
    }
}

/// Checks settings `rewards`: at most [`REWARDS_MAX`], ids unique, costs, values and limits in
/// range, tiers that exist.
pub fn validate_rewards(rewards: &[Reward], points: &PointsSettings, errs: &mut ValidationErrors) {
    if rewards.len() > REWARDS_MAX {
        errs.push(
            "rewards",
            format!("must have at most {REWARDS_MAX} rewards"),
        );
    }
    let tiers: BTreeSet<&TierName> = points.tiers.iter().map(|t| &t.name).collect();
    let mut seen = BTreeSet::new();
    for (i, r) in rewards.iter().enumerate() {
        let at = |f: &str| format!("rewards[{i}].{f}");
        if !seen.insert(r.reward_id.as_str()) {
            errs.push(at("reward_id"), "is listed twice");
        }
        if !(1..=MAX_POINTS).contains(&r.points_cost) {
            errs.push(at("points_cost"), format!("must be 1 to {MAX_POINTS}"));
        }
        if !(1..=MAX_AMOUNT).contains(&r.coupon.value_minor) {
            errs.push(
                at("coupon.value_minor"),
                format!("must be 1 to {MAX_AMOUNT}"),
            );
        }
        if !(1..=3650).contains(&r.coupon.valid_days) {
            errs.push(at("coupon.valid_days"), "must be 1 to 3650");
        }
        if r.stock.is_some_and(|s| s > MAX_STOCK) {
            errs.push(at("stock"), format!("must be at most {MAX_STOCK}"));
        }
        if r.per_customer_limit
            .is_some_and(|l| l == 0 || l > MAX_STOCK)
        {
            errs.push(
                at("per_customer_limit"),
                format!("must be 1 to {MAX_STOCK}"),
            );
        }
        for t in r.tiers.iter().flatten() {
            if !tiers.contains(t) {
                errs.push(at("tiers"), format!("names no tier of points.tiers: {t}"));
            }
        }
    }
}

#[cfg(test)]
#[path = "rewards_tests.rs"]
mod tests;
