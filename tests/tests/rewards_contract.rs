//! The reward catalogue through the store port, on SQLite and DynamoDB: a reward's stock and
//! per-customer limit hold under racing redemptions, tiers are respected, retries replay.

use std::sync::Arc;

use fanloop_domain::points::{AccrualRequest, RewardDecline, RewardId};
use fanloop_domain::ports::Store;
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, ExternalId, TenantId};
use fanloop_points::service::{self, Outcome, PointsError, RedemptionRequest, RedemptionResult};
use fanloop_tests::{Backend, both_stores, ts};
use jiff::Timestamp;
use serde_json::json;

both_stores!(
    fifty_racing_redemptions_take_exactly_the_stock,
    the_per_customer_limit_holds_under_racing_redemptions,
    tiers_and_unknown_rewards_are_refused_and_retries_replay,
);

const NOW: &str = "2026-01-10T00:00:00Z";

/// A catalogue of `skin` (300 points, a 5.00 USD coupon) with these extra fields.
fn settings(extra: serde_json::Value) -> TenantSettings {
    let mut skin = json!({
        "reward_id": "skin", "name": "Gold skin", "points_cost": 300,
        "coupon": {"value_minor": 500, "currency": "USD", "valid_days": 14}
    });
    if let (Some(o), Some(e)) = (skin.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    fanloop_tests::plain_points_settings()
        .merged(json!({"rewards": [skin]}))
        .unwrap()
}

/// A customer with `points` points.
async fn customer(store: &dyn Store, t: &TenantId, id: &str, points: u64) -> CustomerId {
    let c = CustomerId::parse(id).unwrap();
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"email": "p@example.com"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store.upsert_profile(t, &c, &p, ts(NOW)).await.unwrap();
    let s = settings(json!({}));
    let seed = AccrualRequest::from_json(
        json!({"event_id": "seed", "kind": "bonus", "points": points}),
        &s.points.earning,
        ts(NOW),
    )
    .unwrap();
    service::accrue(store, &s, t, &c, seed, ts(NOW))
        .await
        .unwrap();
    c
}

fn skin(id: &str) -> RedemptionRequest {
    RedemptionRequest::reward(
        ExternalId::parse(id).unwrap(),
        RewardId::parse("skin").unwrap(),
    )
}

async fn balance(store: &dyn Store, t: &TenantId, c: &CustomerId, now: Timestamp) -> i64 {
    let s = settings(json!({}));
    service::view(store, &s, t, c, now)
        .await
        .unwrap()
        .unwrap()
        .balance
}

type Answer = Result<Outcome<RedemptionResult>, PointsError>;

/// Runs every `(customer, redemption)` at once.
async fn race(
    store: &Arc<dyn Store>,
    t: &TenantId,
    s: &TenantSettings,
    reqs: Vec<(CustomerId, RedemptionRequest)>,
) -> Vec<Answer> {
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|(c, req)| {
            let (store, t, s) = (store.clone(), t.clone(), s.clone());
            tokio::spawn(
                async move { service::redeem(store.as_ref(), &s, &t, &c, req, ts(NOW)).await },
            )
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

fn created(answers: &[Answer]) -> Vec<&RedemptionResult> {
    answers
        .iter()
        .filter_map(|a| match a {
            Ok(Outcome::Created(r)) => Some(r),
            _ => None,
        })
        .collect()
}

fn refused_with(answers: &[Answer], decline: RewardDecline) -> usize {
    answers
        .iter()
        .filter(|a| matches!(a, Err(PointsError::Reward(d)) if *d == decline))
        .count()
}

async fn fifty_racing_redemptions_take_exactly_the_stock(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let s = settings(json!({"stock": 10}));
    let mut reqs = Vec::new();
    for i in 0..50 {
        let c = customer(store.as_ref(), &t, &format!("fan{i}"), 1000).await;
        reqs.push((c, skin("r1")));
    }
    let answers = race(&store, &t, &s, reqs.clone()).await;
    let won = created(&answers);
    assert_eq!(won.len(), 10, "exactly the stock is redeemed");
    assert_eq!(
        refused_with(&answers, RewardDecline::OutOfStock),
        40,
        "every other one is out of stock: {:?}",
        answers
            .iter()
            .filter_map(|a| a.as_ref().err())
            .collect::<Vec<_>>()
    );
    for r in &won {
        let c = r.coupon.as_ref().expect("the catalogue's coupon");
        assert_eq!((r.points_spent, r.balance), (300, 700));
        assert_eq!(
            (
                c.value_minor,
                c.currency.as_str(),
                r.reward_id.as_ref().map(|i| i.as_str())
            ),
            (500, "USD", Some("skin"))
        );
        assert_eq!(
            c.expires_at,
            ts(NOW)
                .checked_add(jiff::SignedDuration::from_hours(24 * 14))
                .unwrap()
        );
    }
    let mut spent = 0;
    let mut coupons = 0;
    for (c, _) in &reqs {
        let bal = balance(store.as_ref(), &t, c, ts(NOW)).await;
        assert!(bal == 700 || bal == 1000, "{c}: {bal}");
        spent += 1000 - bal;
        coupons += store.customer_coupons(&t, c).await.unwrap().len();
    }
    assert_eq!(
        (spent, coupons),
        (3000, 10),
        "only the winners paid and got a coupon"
    );
    let counted = store.rewards_redeemed(&t).await.unwrap();
    assert_eq!(counted.get("skin"), Some(&10));
    let listed = service::rewards(store.as_ref(), &s, &t).await.unwrap();
    assert_eq!(
        (listed[0].redeemed, listed[0].remaining),
        (Some(10), Some(0))
    );

    // A winner's retry replays its coupon; nobody's retry takes more stock.
    let again = race(&store, &t, &s, reqs.clone()).await;
    assert_eq!(created(&again).len(), 0);
    let replayed: Vec<_> = again
        .iter()
        .filter_map(|a| match a {
            Ok(Outcome::Replayed(r)) => r.coupon.as_ref().map(|c| c.code.clone()),
            _ => None,
        })
        .collect();
    let mut codes: Vec<_> = won
        .iter()
        .filter_map(|r| r.coupon.as_ref().map(|c| c.code.clone()))
        .collect();
    let mut replayed_sorted = replayed.clone();
    codes.sort();
    replayed_sorted.sort();
    assert_eq!(replayed_sorted, codes);

    // More stock: two more, and only two.
    let more = settings(json!({"stock": 12}));
    let fresh: Vec<_> = reqs.iter().map(|(c, _)| (c.clone(), skin("r2"))).collect();
    let answers = race(&store, &t, &more, fresh).await;
    assert_eq!(created(&answers).len(), 2);
    assert_eq!(
        store.rewards_redeemed(&t).await.unwrap().get("skin"),
        Some(&12)
    );
}

async fn the_per_customer_limit_holds_under_racing_redemptions(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let s = settings(json!({"per_customer_limit": 2}));
    let c = customer(store.as_ref(), &t, "collector", 3000).await;
    let reqs = (0..8)
        .map(|i| (c.clone(), skin(&format!("r{i}"))))
        .collect();
    let answers = race(&store, &t, &s, reqs).await;
    assert_eq!(created(&answers).len(), 2);
    assert_eq!(
        refused_with(&answers, RewardDecline::LimitReached { limit: 2 }),
        6
    );
    assert_eq!(balance(store.as_ref(), &t, &c, ts(NOW)).await, 2400);
    assert_eq!(store.customer_coupons(&t, &c).await.unwrap().len(), 2);
    assert!(
        store.rewards_redeemed(&t).await.unwrap().is_empty(),
        "a reward without a stock counts nothing tenant-wide"
    );
    // Another customer has a limit of their own.
    let other = customer(store.as_ref(), &t, "newcomer", 300).await;
    let r = service::redeem(store.as_ref(), &s, &t, &other, skin("r0"), ts(NOW)).await;
    assert!(matches!(r, Ok(Outcome::Created(_))));
}

async fn tiers_and_unknown_rewards_are_refused_and_retries_replay(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = customer(store.as_ref(), &t, "casual", 400).await;
    let vip = settings(json!({"tiers": ["high-value"]}));
    let r = service::redeem(store.as_ref(), &vip, &t, &c, skin("r1"), ts(NOW)).await;
    assert!(
        matches!(r, Err(PointsError::Reward(RewardDecline::NotForTier))),
        "{:?}",
        r.err()
    );
    let open = settings(json!({"stock": 0}));
    let r = service::redeem(store.as_ref(), &open, &t, &c, skin("r1"), ts(NOW)).await;
    assert!(matches!(
        r,
        Err(PointsError::Reward(RewardDecline::OutOfStock))
    ));
    let s = settings(json!({}));
    let first = service::redeem(store.as_ref(), &s, &t, &c, skin("r1"), ts(NOW))
        .await
        .unwrap();
    let Outcome::Created(first) = first else {
        panic!("not new")
    };
    let r = service::redeem(store.as_ref(), &s, &t, &c, skin("r2"), ts(NOW)).await;
    assert!(
        matches!(r, Err(PointsError::Insufficient { balance: 100 })),
        "{:?}",
        r.err()
    );
    // The reward leaves the catalogue: a retry still gets its answer, a new request is refused.
    let empty = fanloop_tests::plain_points_settings();
    let again = service::redeem(store.as_ref(), &empty, &t, &c, skin("r1"), ts(NOW))
        .await
        .unwrap();
    let Outcome::Replayed(again) = again else {
        panic!("not a replay")
    };
    assert_eq!(again, first);
    let r = service::redeem(store.as_ref(), &empty, &t, &c, skin("r3"), ts(NOW)).await;
    assert!(matches!(
        r,
        Err(PointsError::Reward(RewardDecline::Unknown))
    ));
    // The same id for a free-form redemption is another request.
    let r = service::redeem(
        store.as_ref(),
        &s,
        &t,
        &c,
        RedemptionRequest::points(ExternalId::parse("r1").unwrap(), 300),
        ts(NOW),
    )
    .await;
    assert!(matches!(r, Err(PointsError::Reused)));
    assert_eq!(balance(store.as_ref(), &t, &c, ts(NOW)).await, 100);
}
