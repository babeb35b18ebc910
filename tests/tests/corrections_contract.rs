//! Commercial facts on accruals, reversals and adjustments through the store port, on SQLite
//! and DynamoDB: facts round-trip and survive erasure without the person, a reversal applies
//! once (also under racing requests), debts and clamp mode.

use std::sync::Arc;

use fanloop_domain::points::{AccrualRequest, AdjustmentInput, LedgerKind, ReversalInput};
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, ExternalId, TenantId};
use fanloop_points::service::{
    self, CorrectionResult, Outcome, PointsError, RedemptionRequest, Spend,
};
use fanloop_tests::{Backend, both_stores, ts};

use serde_json::{Value, json};

both_stores!(
    accrual_facts_round_trip_and_outlive_the_person,
    a_reversal_applies_once,
    racing_reversals_of_one_accrual_apply_once,
    a_reversal_after_spending_is_a_debt_the_next_accrual_pays,
    clamp_mode_stops_at_zero,
    adjustments_are_exactly_once,
);

fn settings() -> TenantSettings {
    fanloop_tests::plain_points_settings()
}

const NOW: &str = "2026-03-10T12:00:00Z";

async fn customer(b: &Backend, id: &str) -> (Arc<dyn Store>, TenantId, CustomerId) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = CustomerId::parse(id).unwrap();
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"email": "facts@example.com", "display_name": "Faye Facts"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&t, &c, &p, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    (store, t, c)
}

async fn accrue(store: &dyn Store, s: &TenantSettings, t: &TenantId, c: &CustomerId, body: Value) {
    let now = ts(NOW);
    let req = AccrualRequest::from_json(body, &s.points.earning, now).unwrap();
    service::accrue(store, s, t, c, req, now).await.unwrap();
}

fn reversal(id: &str, event: &str) -> ReversalInput {
    ReversalInput::parse(json!({
        "reversal_id": id, "event_id": event, "reason": "refund for Faye Facts", "actor": "agent-1"
    }))
    .unwrap()
}

async fn reverse(
    store: &dyn Store,
    s: &TenantSettings,
    t: &TenantId,
    c: &CustomerId,
    req: ReversalInput,
) -> Result<Outcome<CorrectionResult>, PointsError> {
    // A client retries a write that lost a race (DynamoDB's optimistic commit may say so).
    for _ in 0..10 {
        match service::reverse(store, s, t, c, req.clone(), ts(NOW)).await {
            Err(PointsError::Store(StoreError::Conflict)) => continue,
            other => return other,
        }
    }
    panic!("still conflicting after 10 client retries");
}

async fn balance(store: &dyn Store, s: &TenantSettings, t: &TenantId, c: &CustomerId) -> i64 {
    service::view(store, s, t, c, ts(NOW))
        .await
        .unwrap()
        .unwrap()
        .balance
}

fn purchase(event: &str, amount: u64) -> Value {
    json!({
        "event_id": event, "kind": "purchase", "amount_minor": amount, "currency": "USD",
        "item": {"sku": "gems-500", "name": "500 gems", "category": "gems"},
        "platform": "ios", "order_id": "GPA.3341-faye"
    })
}

async fn accrual_facts_round_trip_and_outlive_the_person(b: Backend) {
    let (store, t, c) = customer(&b, "faye").await;
    let s = settings();
    accrue(store.as_ref(), &s, &t, &c, purchase("o1", 4_999)).await;
    accrue(
        store.as_ref(),
        &s,
        &t,
        &c,
        json!({"event_id": "g1", "kind": "gift", "amount_minor": 300, "currency": "COIN",
               "streamer_id": "streamer-42", "room_id": "room-7", "platform": "android"}),
    )
    .await;
    accrue(
        store.as_ref(),
        &s,
        &t,
        &c,
        json!({"event_id": "w1", "kind": "watch", "minutes": 95, "streamer_id": "streamer-42"}),
    )
    .await;
    let ledger = store.ledger(&t, &c, None, 10).await.unwrap();
    let by_key = |k: &str| ledger.iter().find(|e| e.key == k).unwrap().facts.clone();
    let p = by_key("accrual:o1");
    assert_eq!(
        (p.amount_minor, p.currency.unwrap().as_str()),
        (Some(4_999), "USD")
    );
    let item = p.context.item.unwrap();
    assert_eq!(
        (
            item.sku.as_str(),
            item.name.unwrap().as_str(),
            item.category.unwrap().as_str()
        ),
        ("gems-500", "500 gems", "gems")
    );
    assert_eq!(p.context.order_id.unwrap().as_str(), "GPA.3341-faye");
    let g = by_key("accrual:g1");
    assert_eq!(
        (
            g.amount_minor,
            g.context.streamer_id.unwrap().as_str(),
            g.context.room_id.unwrap().as_str()
        ),
        (Some(300), "streamer-42", "room-7")
    );
    assert_eq!(by_key("accrual:w1").minutes, Some(95));
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(
        export.ledger,
        ledger.iter().rev().cloned().collect::<Vec<_>>()
    );

    reverse(store.as_ref(), &s, &t, &c, reversal("rf-1", "o1"))
        .await
        .unwrap();
    store
        .erase_customer(&t, &c, "~erased-f1")
        .await
        .unwrap()
        .unwrap();
    let anon = b.anonymous_ledger(&t, "~erased-f1").await;
    let purchase = anon.iter().find(|e| e.key == "accrual:o1").unwrap();
    assert_eq!(
        purchase.facts.amount_minor,
        Some(4_999),
        "revenue still adds up"
    );
    assert_eq!(
        purchase.facts.context.item.as_ref().unwrap().sku.as_str(),
        "gems-500"
    );
    assert!(
        purchase.facts.context.order_id.is_none(),
        "the order id ties to the person"
    );
    let refund = anon.iter().find(|e| e.key == "reversal:o1").unwrap();
    assert_eq!(refund.facts.amount_minor, Some(4_999));
    assert!(
        refund.correction.as_ref().unwrap().reason.is_none(),
        "staff text may name them"
    );
    let dump = b.dump(&t).await.join("\n");
    for pii in ["faye", "Faye", "GPA.3341", "facts@example.com"] {
        assert!(!dump.contains(pii), "{pii} left in the store");
    }
}

async fn a_reversal_applies_once(b: Backend) {
    let (store, t, c) = customer(&b, "refunded").await;
    let s = settings();
    accrue(store.as_ref(), &s, &t, &c, purchase("o1", 4_999)).await; // 490 points
    let Outcome::Created(first) = reverse(store.as_ref(), &s, &t, &c, reversal("rf-1", "o1"))
        .await
        .unwrap()
    else {
        panic!("the first reversal is new")
    };
    assert_eq!((first.points, first.shortfall, first.balance), (-490, 0, 0));
    match reverse(store.as_ref(), &s, &t, &c, reversal("rf-1", "o1"))
        .await
        .unwrap()
    {
        Outcome::Replayed(r) => assert_eq!(r, first, "a retry gets the original answer"),
        Outcome::Created(_) => panic!("reversed twice"),
    }
    assert!(matches!(
        reverse(store.as_ref(), &s, &t, &c, reversal("rf-2", "o1")).await,
        Err(PointsError::Reused)
    ));
    assert!(matches!(
        reverse(
            store.as_ref(),
            &s,
            &t,
            &c,
            reversal("rf-3", "no-such-order")
        )
        .await,
        Err(PointsError::UnknownEvent)
    ));
    let stranger = CustomerId::parse("stranger").unwrap();
    assert!(matches!(
        reverse(store.as_ref(), &s, &t, &stranger, reversal("rf-4", "o1")).await,
        Err(PointsError::NotFound)
    ));
    let ledger = store.ledger(&t, &c, None, 10).await.unwrap();
    assert_eq!(ledger.len(), 2);
    assert_eq!(
        ledger[0].kind,
        LedgerKind::Reversal {
            kind: fanloop_domain::points::AccrualKind::Purchase,
            event_id: ExternalId::parse("o1").unwrap()
        }
    );
    let account = store.account(&t, &c).await.unwrap().unwrap().account;
    assert_eq!((account.lifetime_earned, account.balance()), (0, 0));
}

async fn racing_reversals_of_one_accrual_apply_once(b: Backend) {
    let (store, t, c) = customer(&b, "racer").await;
    let s = settings();
    accrue(store.as_ref(), &s, &t, &c, purchase("o1", 10_000)).await; // 1,000 points
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, s, t, c) = (store.clone(), s.clone(), t.clone(), c.clone());
        // Ten clients send one refund twice at once; ten others send refunds of their own.
        let id = if i % 2 == 0 {
            "rf-same".to_owned()
        } else {
            format!("rf-{i}")
        };
        tasks.push(tokio::spawn(async move {
            reverse(store.as_ref(), &s, &t, &c, reversal(&id, "o1")).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Outcome::Created(r)) => {
                created += 1;
                assert_eq!(r.points, -1_000);
            }
            Ok(Outcome::Replayed(r)) => assert_eq!(r.id.as_str(), "rf-same"),
            Err(PointsError::Reused) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(created, 1, "one reversal applied");
    assert_eq!(balance(store.as_ref(), &s, &t, &c).await, 0);
    assert_eq!(store.ledger(&t, &c, None, 10).await.unwrap().len(), 2);
}

/// A purchase of 500 points, 400 of them spent, then the purchase reversed.
async fn earn_spend_reverse(
    store: &dyn Store,
    s: &TenantSettings,
    t: &TenantId,
    c: &CustomerId,
) -> CorrectionResult {
    accrue(store, s, t, c, purchase("o1", 5_000)).await;
    let spend = RedemptionRequest {
        redemption_id: ExternalId::parse("r1").unwrap(),
        spend: Spend::Points {
            points: 400,
            reward: None,
        },
    };
    service::redeem(store, s, t, c, spend, ts(NOW))
        .await
        .unwrap();
    match reverse(store, s, t, c, reversal("cb-1", "o1"))
        .await
        .unwrap()
    {
        Outcome::Created(r) => r,
        Outcome::Replayed(_) => panic!("the first reversal is new"),
    }
}

async fn a_reversal_after_spending_is_a_debt_the_next_accrual_pays(b: Backend) {
    let (store, t, c) = customer(&b, "spent-it").await;
    let s = settings();
    let r = earn_spend_reverse(store.as_ref(), &s, &t, &c).await;
    assert_eq!((r.points, r.shortfall, r.balance), (-500, 0, -400));
    let again = RedemptionRequest {
        redemption_id: ExternalId::parse("r2").unwrap(),
        spend: Spend::Points {
            points: 1,
            reward: None,
        },
    };
    assert!(matches!(
        service::redeem(store.as_ref(), &s, &t, &c, again, ts(NOW)).await,
        Err(PointsError::Insufficient { balance: -400 })
    ));
    accrue(
        store.as_ref(),
        &s,
        &t,
        &c,
        json!({"event_id": "b1", "kind": "bonus", "points": 450}),
    )
    .await;
    assert_eq!(
        balance(store.as_ref(), &s, &t, &c).await,
        50,
        "the debt was paid first"
    );
    let ledger = store.ledger(&t, &c, None, 10).await.unwrap();
    assert_eq!(ledger.iter().map(|e| e.points).sum::<i64>(), 50);
    assert_eq!(ledger[1].balance_after, -400);
}

async fn clamp_mode_stops_at_zero(b: Backend) {
    let (store, t, c) = customer(&b, "clamped").await;
    let mut s = settings();
    s.points.reversal = fanloop_domain::points::ReversalMode::Clamp;
    let r = earn_spend_reverse(store.as_ref(), &s, &t, &c).await;
    assert_eq!((r.points, r.shortfall, r.balance), (-100, 400, 0));
    let ledger = store.ledger(&t, &c, None, 10).await.unwrap();
    assert_eq!(ledger[0].correction.as_ref().unwrap().shortfall, 400);
    assert_eq!(ledger.iter().map(|e| e.points).sum::<i64>(), 0);
}

async fn adjustments_are_exactly_once(b: Backend) {
    let (store, t, c) = customer(&b, "adjusted").await;
    let s = settings();
    let adj = |id: &str, points: i64| {
        AdjustmentInput::parse(
            json!({"adjustment_id": id, "points": points, "reason": "ticket 42", "actor": "agent-9"}),
        )
        .unwrap()
    };
    let now = ts(NOW);
    let Outcome::Created(up) = service::adjust(store.as_ref(), &s, &t, &c, adj("a1", 300), now)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!((up.points, up.balance), (300, 300));
    assert!(matches!(
        service::adjust(store.as_ref(), &s, &t, &c, adj("a1", 300), now).await.unwrap(),
        Outcome::Replayed(r) if r == up
    ));
    assert!(matches!(
        service::adjust(store.as_ref(), &s, &t, &c, adj("a1", 301), now).await,
        Err(PointsError::Reused)
    ));
    let Outcome::Created(down) = service::adjust(store.as_ref(), &s, &t, &c, adj("a2", -500), now)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!((down.points, down.balance), (-500, -200));
    let ledger = store.ledger(&t, &c, None, 10).await.unwrap();
    assert_eq!(ledger.len(), 2);
    let corr = ledger[0].correction.as_ref().unwrap();
    assert_eq!(
        (
            corr.id.as_str(),
            corr.actor.as_ref().unwrap().as_str(),
            corr.reason.as_ref().unwrap().as_str()
        ),
        ("a2", "agent-9", "ticket 42")
    );
    let stranger = CustomerId::parse("nobody").unwrap();
    assert!(matches!(
        service::adjust(store.as_ref(), &s, &t, &stranger, adj("a3", 5), now).await,
        Err(PointsError::NotFound)
    ));
}
