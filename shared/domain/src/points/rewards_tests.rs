use serde_json::json;

use super::*;
use crate::points::rules::TierName;
use crate::points::test_support::{bonus, ts, utc};

fn reward(v: serde_json::Value) -> Reward {
    serde_json::from_value(v).unwrap()
}

fn skin() -> Reward {
    reward(json!({
        "reward_id": "skin-gold", "name": "Gold skin", "points_cost": 300,
        "coupon": {"value_minor": 500, "currency": "USD"},
        "per_customer_limit": 2
    }))
}

#[test]
fn a_reward_spends_its_cost_and_counts_against_the_customer_limit() {
    let s = PointsSettings::default();
    let now = ts("2030-01-02T00:00:00Z");
    let mut a = Account::default();
    a.accrue(&bonus("a", 1000), &s, now, &utc());
    let r = skin();
    assert_eq!(r.coupon.valid_days, 30, "the default validity");
    a.redeem_reward("r1", &r, &s, now, &utc()).unwrap();
    a.redeem_reward("r2", &r, &s, now, &utc()).unwrap();
    assert_eq!(a.balance(), 400);
    let before = a.clone();
    assert_eq!(
        a.redeem_reward("r3", &r, &s, now, &utc()),
        Err(RewardDecline::LimitReached { limit: 2 })
    );
    assert_eq!(a, before, "a refusal changes nothing");
    assert_eq!(a.rewards_redeemed.get("skin-gold"), Some(&2));
}

#[test]
fn tiers_stock_zero_and_too_few_points_refuse() {
    let s = PointsSettings::default();
    let now = ts("2030-01-02T00:00:00Z");
    let mut a = Account::default();
    a.accrue(&bonus("a", 200), &s, now, &utc());
    let mut r = skin();
    r.tiers = Some([TierName::parse("high-value").unwrap()].into());
    assert_eq!(
        a.redeem_reward("r1", &r, &s, now, &utc()),
        Err(RewardDecline::NotForTier)
    );
    r.tiers = Some([TierName::parse("potential").unwrap()].into());
    assert_eq!(
        a.redeem_reward("r1", &r, &s, now, &utc()),
        Err(RewardDecline::Insufficient { balance: 200 })
    );
    r.points_cost = 100;
    r.stock = Some(0);
    assert_eq!(
        a.redeem_reward("r1", &r, &s, now, &utc()),
        Err(RewardDecline::OutOfStock)
    );
    r.stock = Some(5);
    a.redeem_reward("r1", &r, &s, now, &utc()).unwrap();
    assert_eq!(
        r.stock_claim(),
        Some(StockClaim {
            reward_id: r.reward_id.clone(),
            stock: 5
        })
    );
    assert_eq!(r.listing(7).remaining, Some(0), "never below zero");
    assert_eq!(
        skin().listing(7).remaining,
        None,
        "no stock, nothing counted"
    );
}

#[test]
fn the_catalogue_is_validated_by_path() {
    let s = PointsSettings::default();
    let mut bad = skin();
    bad.points_cost = 0;
    bad.per_customer_limit = Some(0);
    bad.coupon.valid_days = 0;
    bad.tiers = Some([TierName::parse("gold").unwrap()].into());
    let mut errs = ValidationErrors::default();
    validate_rewards(&[skin(), bad], &s, &mut errs);
    let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "rewards[1].reward_id",
            "rewards[1].points_cost",
            "rewards[1].coupon.valid_days",
            "rewards[1].per_customer_limit",
            "rewards[1].tiers"
        ]
    );
    let mut errs = ValidationErrors::default();
    validate_rewards(&[skin()], &s, &mut errs);
    assert!(errs.0.is_empty());
}
