//! Commercial facts, refunds and support corrections over HTTP on both stores: the flow a game
//! backend and a support tool run, and every bad input answered with problem+json while
//! nothing is credited or taken.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    refund_walkthrough,
    bad_correction_input_changes_nothing,
    totals_and_rfm_follow_purchases_and_refunds,
);

async fn refund_walkthrough(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/p1", json!({"email": "p1@example.com"}))
        .await;
    let purchase = json!({
        "event_id": "order-9", "kind": "purchase", "amount_minor": 1999, "currency": "USD",
        "item": {"sku": "season-pass", "name": "Season pass", "category": "battle-pass"},
        "platform": "android", "order_id": "GPA.9"
    });
    let r = app.post("/v1/customers/p1/points/accruals", purchase).await;
    assert_eq!(
        (r.status, r.body["points_awarded"].clone()),
        (StatusCode::CREATED, json!(190))
    );
    let gift = json!({"event_id": "gift-3", "kind": "gift", "amount_minor": 500, "currency": "COIN",
                      "streamer_id": "luna", "room_id": "room-12"});
    assert_eq!(
        app.post("/v1/customers/p1/points/accruals", gift)
            .await
            .status,
        StatusCode::CREATED
    );
    let ledger = app.get("/v1/customers/p1/points/ledger").await.body;
    assert_eq!(
        ledger["entries"][1]["facts"],
        json!({"amount_minor": 1999, "currency": "USD",
               "item": {"sku": "season-pass", "name": "Season pass", "category": "battle-pass"},
               "platform": "android", "order_id": "GPA.9"})
    );
    assert_eq!(ledger["entries"][0]["facts"]["streamer_id"], "luna");

    let refund = json!({"reversal_id": "refund-1", "event_id": "order-9", "reason": "refunded by Google Play"});
    let r = app
        .post("/v1/customers/p1/points/reversals", refund.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"id": "refund-1", "points": -190, "shortfall": 0, "balance": 50, "tier": "potential"})
    );
    let again = app.post("/v1/customers/p1/points/reversals", refund).await;
    assert_eq!((again.status, again.body), (StatusCode::OK, r.body));
    app.post(
        "/v1/customers/p1/points/reversals",
        json!({"reversal_id": "refund-2", "event_id": "order-9", "reason": "again"}),
    )
    .await
    .assert_problem(409, "conflict");

    let adj = json!({"adjustment_id": "ticket-88", "points": -80, "reason": "duplicate gift credit", "actor": "agent-ana"});
    let r = app.post("/v1/customers/p1/points/adjustments", adj).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["points"].clone(), r.body["balance"].clone()),
        (json!(-80), json!(-30))
    );
    let points = app.get("/v1/customers/p1/points").await.body;
    assert_eq!(points["balance"], -30, "a debt shows as a negative balance");
    let ledger = app.get("/v1/customers/p1/points/ledger").await.body;
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(
        (
            entries[1]["type"].clone(),
            entries[1]["event_id"].clone(),
            entries[1]["points"].clone()
        ),
        (json!("reversal"), json!("order-9"), json!(-190))
    );
    assert_eq!(
        entries[1]["correction"]["reason"],
        "refunded by Google Play"
    );
    assert_eq!(
        (
            entries[0]["type"].clone(),
            entries[0]["correction"]["actor"].clone()
        ),
        (json!("adjustment"), json!("agent-ana"))
    );
    let export = app.get("/v1/customers/p1/export").await.body;
    assert_eq!(export["ledger"][0]["facts"]["item"]["sku"], "season-pass");
}

async fn bad_correction_input_changes_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/p1", json!({})).await;
    app.post(
        "/v1/customers/p1/points/accruals",
        json!({"event_id": "o1", "kind": "bonus", "points": 100}),
    )
    .await;
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "accruals",
            json!({"event_id": "e", "kind": "gift", "amount_minor": 5, "currency": "COIN", "item": {"sku": "x"}}),
            &["item"],
        ),
        (
            "accruals",
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 5, "currency": "USD",
                   "item": {"sku": "a b", "name": "", "category": "x/y", "price": 5}}),
            &["item.category", "item.name", "item.price", "item.sku"],
        ),
        (
            "accruals",
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 5, "currency": "USD", "item": "gems"}),
            &["item"],
        ),
        (
            "accruals",
            json!({"event_id": "e", "kind": "watch", "minutes": 5, "streamer_id": "a#b", "platform": ""}),
            &["platform", "streamer_id"],
        ),
        (
            "accruals",
            json!({"event_id": "e", "kind": "bonus", "order_id": "o"}),
            &["order_id"],
        ),
        (
            "reversals",
            json!({"event_id": "o1", "reason": "r"}),
            &["reversal_id"],
        ),
        (
            "reversals",
            json!({"reversal_id": "r", "event_id": "o1"}),
            &["reason"],
        ),
        (
            "reversals",
            json!({"reversal_id": "r", "event_id": "o1", "reason": "   "}),
            &["reason"],
        ),
        (
            "reversals",
            json!({"reversal_id": "r", "event_id": "unknown", "reason": "r"}),
            &["event_id"],
        ),
        (
            "reversals",
            json!({"reversal_id": "r", "event_id": "o1", "reason": "r", "points": 5}),
            &["points"],
        ),
        (
            "adjustments",
            json!({"adjustment_id": "a", "points": 0, "reason": "r", "actor": "s"}),
            &["points"],
        ),
        (
            "adjustments",
            json!({"adjustment_id": "a", "points": 1.5, "reason": "r", "actor": "s"}),
            &["points"],
        ),
        (
            "adjustments",
            json!({"adjustment_id": "a", "points": -1_000_000_001i64, "reason": "r", "actor": "s"}),
            &["points"],
        ),
        (
            "adjustments",
            json!({"adjustment_id": "a", "points": 5, "reason": "x".repeat(501)}),
            &["actor", "reason"],
        ),
    ];
    for (route, body, expected) in cases {
        let r = app
            .post(&format!("/v1/customers/p1/points/{route}"), body.clone())
            .await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), expected, "{route}: {body}");
    }
    app.post(
        "/v1/customers/ghost/points/reversals",
        json!({"reversal_id": "r", "event_id": "o1", "reason": "r"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.post(
        "/v1/customers/ghost/points/adjustments",
        json!({"adjustment_id": "a", "points": 5, "reason": "r", "actor": "s"}),
    )
    .await
    .assert_problem(404, "not-found");
    let ledger = app.get("/v1/customers/p1/points/ledger").await.body;
    assert_eq!(
        ledger["entries"].as_array().unwrap().len(),
        1,
        "nothing was written"
    );
    assert_eq!(
        app.get("/v1/customers/p1/points").await.body["balance"],
        100
    );
}

async fn totals_and_rfm_follow_purchases_and_refunds(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/p1", json!({})).await;
    let fresh = app.get("/v1/customers/p1").await.body;
    assert_eq!(
        (
            fresh["rfm"]["segment"].clone(),
            fresh["rfm"]["r"].clone(),
            fresh["totals"]["purchases"].clone()
        ),
        (json!("lost"), json!(1), json!(0))
    );
    // Five $30 purchases and one in yen today (08:00Z, 22 November), a gift and watch time.
    for i in 0..5 {
        app.post(
            "/v1/customers/p1/points/accruals",
            json!({"event_id": format!("o{i}"), "kind": "purchase", "amount_minor": 3000, "currency": "USD"}),
        )
        .await;
    }
    app.post(
        "/v1/customers/p1/points/accruals",
        json!({"event_id": "jp", "kind": "purchase", "amount_minor": 500, "currency": "JPY"}),
    )
    .await;
    app.post(
        "/v1/customers/p1/points/accruals",
        json!({"event_id": "g", "kind": "gift", "amount_minor": 250, "currency": "COIN", "streamer_id": "luna"}),
    )
    .await;
    app.post(
        "/v1/customers/p1/points/accruals",
        json!({"event_id": "w", "kind": "watch", "minutes": 75}),
    )
    .await;
    let c = app.get("/v1/customers/p1").await.body;
    assert_eq!(
        c["totals"],
        json!({"purchases": 6, "first_purchase_at": "2026-11-22T08:00:00.000Z",
               "last_purchase_at": "2026-11-22T08:00:00.000Z",
               "spend": {"JPY": 500, "USD": 15000}, "gift_coins": {"COIN": 250}, "watch_minutes": 75})
    );
    let rfm = &c["rfm"];
    assert_eq!(
        (
            rfm["recency_days"].clone(),
            rfm["frequency"].clone(),
            rfm["monetary_minor"].clone()
        ),
        (json!(0), json!(6), json!(15000))
    );
    assert_eq!(
        (rfm["r"].clone(), rfm["f"].clone(), rfm["m"].clone()),
        (json!(5), json!(3), json!(3))
    );
    assert_eq!(rfm["segment"], "potential_loyalist");
    assert!(
        rfm["why"].as_str().unwrap().contains("JPY left out"),
        "{rfm}"
    );
    // A refund of one purchase; a rate for yen brings it into M.
    app.post(
        "/v1/customers/p1/points/reversals",
        json!({"reversal_id": "rf", "event_id": "o4", "reason": "refund"}),
    )
    .await;
    app.put(
        "/v1/settings",
        json!({"rfm": {"rates": {"JPY": {"per": 100, "minor": 65}}}}),
    )
    .await;
    let c = app.get("/v1/customers/p1").await.body;
    assert_eq!(
        (
            c["totals"]["purchases"].clone(),
            c["totals"]["spend"]["USD"].clone()
        ),
        (json!(5), json!(12000))
    );
    assert_eq!(c["rfm"]["monetary_minor"], 12000 + 325);
    // Two months later: recency 61 days, R falls to 3.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 61));
    let c = app.get("/v1/customers/p1").await.body;
    assert_eq!(
        (c["rfm"]["recency_days"].clone(), c["rfm"]["r"].clone()),
        (json!(61), json!(3))
    );
    assert_eq!(c["rfm"]["segment"], "need_attention");
    // Bad RFM settings name the field.
    let r = app
        .put(
            "/v1/settings",
            json!({"rfm": {"frequency": [5, 3, 8, 9], "window_months": 0}}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["rfm.frequency", "rfm.window_months"]);
}
