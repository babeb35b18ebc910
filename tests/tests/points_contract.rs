//! The points rules through the store port, on SQLite and DynamoDB: exactly-once accruals and
//! redemptions, exact sums under concurrency, no overdraft, expiry, tiers, coupons, erasure.

use std::sync::Arc;

use fanloop_domain::points::{AccrualRequest, CouponCode, CouponRedemption, LedgerKind};
use fanloop_domain::ports::Store;
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, ExternalId, TenantId};
use fanloop_points::service::{self, CouponReward, Outcome, PointsError, RedemptionRequest, Spend};
use fanloop_tests::{Backend, both_stores, ts};
use jiff::Timestamp;
use serde_json::json;

both_stores!(
    accrual_is_exactly_once,
    reusing_an_event_id_for_another_body_is_refused,
    unknown_customers_earn_nothing,
    hundred_concurrent_accruals_add_up_exactly,
    racing_redemptions_never_overdraw,
    lots_expire_and_spending_takes_the_oldest_first,
    tiers_rise_at_once_and_fall_after_grace,
    redemption_mints_a_single_use_coupon,
    ledger_pages_newest_first,
    erasure_keeps_an_anonymous_consistent_ledger,
);

fn cid(s: &str) -> CustomerId {
    CustomerId::parse(s).unwrap()
}

fn settings() -> TenantSettings {
    fanloop_tests::plain_points_settings()
}

async fn customer(b: &Backend, id: &str) -> (Arc<dyn Store>, TenantId, CustomerId) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = cid(id);
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"email": "p@example.com"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&t, &c, &p, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    (store, t, c)
}

fn bonus(id: &str, points: u64, now: Timestamp) -> AccrualRequest {
    AccrualRequest::from_json(
        json!({"event_id": id, "kind": "bonus", "points": points}),
        &settings().points.earning,
        now,
    )
    .unwrap()
}

fn redemption(id: &str, points: u64) -> RedemptionRequest {
    RedemptionRequest::points(ExternalId::parse(id).unwrap(), points)
}

async fn balance(store: &dyn Store, t: &TenantId, c: &CustomerId, now: Timestamp) -> i64 {
    service::view(store, &settings(), t, c, now)
        .await
        .unwrap()
        .unwrap()
        .balance
}

async fn accrual_is_exactly_once(b: Backend) {
    let (store, t, c) = customer(&b, "c").await;
    let now = ts("2026-01-10T00:00:00Z");
    let first = match service::accrue(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        bonus("order-1", 40, now),
        now,
    )
    .await
    .unwrap()
    {
        Outcome::Created(r) => r,
        Outcome::Replayed(_) => panic!("first accrual cannot be a replay"),
    };
    assert_eq!(
        (first.points_awarded, first.balance, first.tier.as_str()),
        (40, 40, "potential")
    );
    let later = ts("2026-01-11T00:00:00Z");
    match service::accrue(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        bonus("order-1", 40, later),
        later,
    )
    .await
    .unwrap()
    {
        Outcome::Replayed(r) => assert_eq!(r, first, "a retry gets the original answer"),
        Outcome::Created(_) => panic!("credited twice"),
    }
    assert_eq!(balance(store.as_ref(), &t, &c, later).await, 40);
    assert_eq!(store.ledger(&t, &c, None, 10).await.unwrap().len(), 1);
}

async fn reusing_an_event_id_for_another_body_is_refused(b: Backend) {
    let (store, t, c) = customer(&b, "c").await;
    let now = ts("2026-01-10T00:00:00Z");
    service::accrue(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        bonus("e", 40, now),
        now,
    )
    .await
    .unwrap();
    let r = service::accrue(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        bonus("e", 41, now),
        now,
    )
    .await;
    assert!(matches!(r, Err(PointsError::Reused)));
    service::redeem(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        redemption("r", 10),
        now,
    )
    .await
    .unwrap();
    let r = service::redeem(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        redemption("r", 11),
        now,
    )
    .await;
    assert!(matches!(r, Err(PointsError::Reused)));
    assert_eq!(balance(store.as_ref(), &t, &c, now).await, 30);
}

async fn unknown_customers_earn_nothing(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let now = ts("2026-01-10T00:00:00Z");
    let r = service::accrue(
        store.as_ref(),
        &settings(),
        &t,
        &cid("ghost"),
        bonus("e", 5, now),
        now,
    )
    .await;
    assert!(matches!(r, Err(PointsError::NotFound)));
    assert!(store.account(&t, &cid("ghost")).await.unwrap().is_none());
    assert!(
        store.profile(&t, &cid("ghost")).await.unwrap().is_none(),
        "an accrual never creates a customer"
    );
}

/// An accrual as a client sends it: a `503` (the store's `Conflict`, after its own retries under
/// a burst on one account; nothing was written) is sent again.
async fn accrue_as_client(
    store: &dyn fanloop_domain::ports::Store,
    t: &fanloop_domain::TenantId,
    c: &CustomerId,
    i: u64,
    now: jiff::Timestamp,
) -> Outcome<service::AccrualResult> {
    let s = settings();
    for _ in 0..5 {
        match service::accrue(store, &s, t, c, bonus(&format!("e{i}"), i, now), now).await {
            Err(service::PointsError::Store(fanloop_domain::ports::StoreError::Conflict)) => {
                continue;
            }
            other => return other.unwrap(),
        }
    }
    panic!("e{i}: still conflicting after 5 client retries");
}

async fn hundred_concurrent_accruals_add_up_exactly(b: Backend) {
    let (store, t, c) = customer(&b, "busy").await;
    let now = ts("2026-01-10T00:00:00Z");
    let mut tasks = Vec::new();
    for i in 1..=100u64 {
        let (store, t, c) = (store.clone(), t.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            // Every event is sent twice at once, as a retrying client would.
            let (a, b) = tokio::join!(
                accrue_as_client(store.as_ref(), &t, &c, i, now),
                accrue_as_client(store.as_ref(), &t, &c, i, now)
            );
            let created = [a, b]
                .iter()
                .filter(|o| matches!(o, Outcome::Created(_)))
                .count();
            assert_eq!(created, 1, "event e{i} credited {created} times");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(balance(store.as_ref(), &t, &c, now).await, 5050);
    let ledger = store.ledger(&t, &c, None, 1000).await.unwrap();
    assert_eq!(ledger.len(), 100);
    assert_eq!(ledger.iter().map(|e| e.points).sum::<i64>(), 5050);
    let mut seqs: Vec<u64> = ledger.iter().map(|e| e.seq).collect();
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=100).collect::<Vec<_>>(),
        "one ledger position per entry, no gaps"
    );
}

async fn racing_redemptions_never_overdraw(b: Backend) {
    let (store, t, c) = customer(&b, "spender").await;
    let now = ts("2026-01-10T00:00:00Z");
    service::accrue(
        store.as_ref(),
        &settings(),
        &t,
        &c,
        bonus("seed", 1_000, now),
        now,
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (store, t, c) = (store.clone(), t.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            service::redeem(
                store.as_ref(),
                &settings(),
                &t,
                &c,
                redemption(&format!("r{i}"), 30),
                now,
            )
            .await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(Outcome::Created(_)) => ok += 1,
            Err(PointsError::Insufficient { .. }) => refused += 1,
            other => panic!("unexpected {:?}", other.err()),
        }
    }
    assert_eq!(
        (ok, refused),
        (33, 17),
        "1000 points cover 33 redemptions of 30"
    );
    assert_eq!(balance(store.as_ref(), &t, &c, now).await, 10);
    let ledger = store.ledger(&t, &c, None, 1000).await.unwrap();
    assert_eq!(
        ledger.iter().map(|e| e.points).sum::<i64>(),
        10,
        "the ledger sums to the balance"
    );
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e.kind == LedgerKind::Redemption)
            .count(),
        33
    );
}

async fn lots_expire_and_spending_takes_the_oldest_first(b: Backend) {
    let (store, t, c) = customer(&b, "saver").await;
    let s = settings();
    let jan = ts("2026-01-10T00:00:00Z"); // lot expires end of March
    let feb = ts("2026-02-10T00:00:00Z"); // lot expires end of April
    service::accrue(store.as_ref(), &s, &t, &c, bonus("jan", 100, jan), jan)
        .await
        .unwrap();
    service::accrue(store.as_ref(), &s, &t, &c, bonus("feb", 50, feb), feb)
        .await
        .unwrap();
    service::redeem(store.as_ref(), &s, &t, &c, redemption("r", 120), feb)
        .await
        .unwrap();
    let v = service::view(store.as_ref(), &s, &t, &c, ts("2026-03-31T23:59:59Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        v.balance, 30,
        "120 came from January's lot first, then 20 from February's"
    );
    assert_eq!(
        v.next_expiry.unwrap().expires_at,
        ts("2026-05-01T00:00:00Z")
    );
    // After April the remaining 30 are gone from every read, without a sweep…
    let may = ts("2026-05-01T00:00:00Z");
    assert_eq!(balance(store.as_ref(), &t, &c, may).await, 0);
    assert!(matches!(
        service::redeem(store.as_ref(), &s, &t, &c, redemption("late", 1), may).await,
        Err(PointsError::Insufficient { balance: 0 })
    ));
    // …and the next write records the expiry in the ledger.
    service::accrue(store.as_ref(), &s, &t, &c, bonus("may", 5, may), may)
        .await
        .unwrap();
    let ledger = store.ledger(&t, &c, None, 10).await.unwrap();
    let expiry = ledger
        .iter()
        .find(|e| e.kind == LedgerKind::Expiry)
        .unwrap();
    assert_eq!(
        (expiry.points, expiry.key.as_str()),
        (-30, "expiry:2026-04")
    );
    assert_eq!(ledger.iter().map(|e| e.points).sum::<i64>(), 5);
}

async fn tiers_rise_at_once_and_fall_after_grace(b: Backend) {
    let (store, t, c) = customer(&b, "climber").await;
    let mut s = settings();
    s.points.validity_days = 400;
    let jan = ts("2026-01-15T00:00:00Z");
    let r = match service::accrue(store.as_ref(), &s, &t, &c, bonus("big", 5_000, jan), jan)
        .await
        .unwrap()
    {
        Outcome::Created(r) => r,
        Outcome::Replayed(r) => r,
    };
    assert_eq!(r.tier, "high-value", "upgrade applies at once");
    let view = |at: &str| {
        let (store, t, c, s) = (store.clone(), t.clone(), c.clone(), s.clone());
        let at = ts(at);
        async move {
            service::view(store.as_ref(), &s, &t, &c, at)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        view("2026-12-31T00:00:00Z").await.tier.as_str(),
        "high-value"
    );
    let grace = view("2027-01-20T00:00:00Z").await;
    assert_eq!(
        grace.tier.as_str(),
        "high-value",
        "kept in the grace period: {}",
        grace.tier_why
    );
    let after = view("2027-02-01T00:00:00Z").await;
    assert_eq!(after.tier.as_str(), "potential", "{}", after.tier_why);
}

async fn redemption_mints_a_single_use_coupon(b: Backend) {
    let (store, t, c) = customer(&b, "shopper").await;
    let s = settings();
    let now = ts("2026-01-10T00:00:00Z");
    service::accrue(store.as_ref(), &s, &t, &c, bonus("seed", 500, now), now)
        .await
        .unwrap();
    let req = RedemptionRequest {
        redemption_id: ExternalId::parse("r1").unwrap(),
        spend: Spend::Points {
            points: 300,
            reward: Some(CouponReward {
                value_minor: 500,
                currency: "USD".to_owned().try_into().unwrap(),
                valid_days: 30,
            }),
        },
    };
    let result = match service::redeem(store.as_ref(), &s, &t, &c, req.clone(), now)
        .await
        .unwrap()
    {
        Outcome::Created(r) => r,
        Outcome::Replayed(_) => panic!("not a replay"),
    };
    let coupon = result.coupon.clone().unwrap();
    assert_eq!(
        (
            result.balance,
            coupon.customer_id.as_str(),
            coupon.value_minor
        ),
        (200, "shopper", 500)
    );
    // A retry mints nothing new.
    match service::redeem(store.as_ref(), &s, &t, &c, req, now)
        .await
        .unwrap()
    {
        Outcome::Replayed(r) => assert_eq!(r.coupon.unwrap().code, coupon.code),
        Outcome::Created(_) => panic!("redeemed twice"),
    }
    assert_eq!(
        store.coupon(&t, &coupon.code).await.unwrap().unwrap(),
        coupon
    );

    let order = |s: &str| ExternalId::parse(s).unwrap();
    let later = ts("2026-01-12T00:00:00Z");
    // Someone else's coupon does not exist for this customer, and stays unused.
    assert_eq!(
        store
            .redeem_coupon(
                &t,
                &coupon.code,
                &cid("someone-else"),
                &order("o0"),
                None,
                later
            )
            .await
            .unwrap(),
        CouponRedemption::NotFound
    );
    assert_eq!(
        store.coupon(&t, &coupon.code).await.unwrap().unwrap(),
        coupon
    );
    assert!(matches!(
        store
            .redeem_coupon(&t, &coupon.code, &c, &order("o1"), None, later)
            .await
            .unwrap(),
        CouponRedemption::Redeemed(_)
    ));
    assert!(matches!(
        store
            .redeem_coupon(&t, &coupon.code, &c, &order("o1"), None, later)
            .await
            .unwrap(),
        CouponRedemption::AlreadyByThisOrder(_)
    ));
    assert_eq!(
        store
            .redeem_coupon(&t, &coupon.code, &c, &order("o2"), None, later)
            .await
            .unwrap(),
        CouponRedemption::UsedByAnotherOrder
    );
    let used = store.coupon(&t, &coupon.code).await.unwrap().unwrap();
    assert_eq!(used.redeemed.unwrap().order_id.as_str(), "o1");

    // Expired coupons cannot be used; unknown codes are not found; other tenants see nothing.
    let req2 = RedemptionRequest {
        redemption_id: ExternalId::parse("r2").unwrap(),
        spend: Spend::Points {
            points: 100,
            reward: Some(CouponReward {
                value_minor: 100,
                currency: "USD".to_owned().try_into().unwrap(),
                valid_days: 1,
            }),
        },
    };
    let Outcome::Created(r2) = service::redeem(store.as_ref(), &s, &t, &c, req2, now)
        .await
        .unwrap()
    else {
        panic!()
    };
    let code2 = r2.coupon.unwrap().code;
    assert_eq!(
        store
            .redeem_coupon(
                &t,
                &code2,
                &c,
                &order("o3"),
                None,
                ts("2026-01-11T00:00:00Z")
            )
            .await
            .unwrap(),
        CouponRedemption::Expired
    );
    let unknown = CouponCode::generate(&fanloop_domain::tenant::OsRandom).unwrap();
    assert_eq!(
        store
            .redeem_coupon(&t, &unknown, &c, &order("o4"), None, later)
            .await
            .unwrap(),
        CouponRedemption::NotFound
    );
    let (other, _) = b.tenant().await;
    assert!(store.coupon(&other, &coupon.code).await.unwrap().is_none());
}

async fn ledger_pages_newest_first(b: Backend) {
    let (store, t, c) = customer(&b, "pager").await;
    let now = ts("2026-01-10T00:00:00Z");
    for i in 1..=7 {
        service::accrue(
            store.as_ref(),
            &settings(),
            &t,
            &c,
            bonus(&format!("e{i}"), i, now),
            now,
        )
        .await
        .unwrap();
    }
    let page1 = store.ledger(&t, &c, None, 3).await.unwrap();
    assert_eq!(page1.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 6, 5]);
    let page2 = store.ledger(&t, &c, Some(5), 3).await.unwrap();
    assert_eq!(page2.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 3, 2]);
    let page3 = store.ledger(&t, &c, Some(2), 3).await.unwrap();
    assert_eq!(page3.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
}

async fn erasure_keeps_an_anonymous_consistent_ledger(b: Backend) {
    let (store, t, c) = customer(&b, "forget-me-please").await;
    let s = settings();
    let now = ts("2026-01-10T00:00:00Z");
    service::accrue(store.as_ref(), &s, &t, &c, bonus("e1", 100, now), now)
        .await
        .unwrap();
    let req = RedemptionRequest {
        redemption_id: ExternalId::parse("r1").unwrap(),
        spend: Spend::Points {
            points: 40,
            reward: Some(CouponReward {
                value_minor: 100,
                currency: "USD".to_owned().try_into().unwrap(),
                valid_days: 30,
            }),
        },
    };
    let Outcome::Created(r) = service::redeem(store.as_ref(), &s, &t, &c, req, now)
        .await
        .unwrap()
    else {
        panic!()
    };
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(
        export.ledger.iter().map(|e| e.points).collect::<Vec<_>>(),
        [100, -40]
    );
    assert_eq!(export.coupons.len(), 1);

    assert!(
        store
            .erase_customer(&t, &c, "~erased-abc123")
            .await
            .unwrap()
            .is_some()
    );
    let dump = b.dump(&t).await.join("\n");
    assert!(
        !dump.contains("forget-me-please"),
        "the customer id is gone from every item"
    );
    assert!(!dump.contains("p@example.com"));
    assert!(
        store
            .coupon(&t, &r.coupon.unwrap().code)
            .await
            .unwrap()
            .is_none(),
        "coupons are voided"
    );
    assert!(store.account(&t, &c).await.unwrap().is_none());
    let anon = b.anonymous_ledger(&t, "~erased-abc123").await;
    assert_eq!(
        anon.iter().map(|e| e.points).sum::<i64>(),
        60,
        "the anonymised ledger still adds up"
    );
    // The id can be used again and starts from nothing.
    let p =
        fanloop_domain::ProfilePatch::from_json(json!({}), jiff::civil::date(2026, 1, 1)).unwrap();
    store.upsert_profile(&t, &c, &p, now).await.unwrap();
    assert_eq!(balance(store.as_ref(), &t, &c, now).await, 0);
}
