//! The points API over HTTP on both stores: the loyalty flow a game backend runs, and every bad
//! input answered with problem+json while nothing is credited, spent or minted.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, Reply, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(loyalty_walkthrough, bad_points_input_changes_nothing);

fn assert_problem(r: &Reply, status: u16, slug: &str) {
    r.assert_problem(status, slug)
}

async fn loyalty_walkthrough(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.put("/v1/customers/p1", json!({"email": "p1@example.com"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let purchase = json!({"event_id": "order-77", "kind": "purchase", "amount_minor": 4999, "currency": "USD"});
    let r = app
        .post("/v1/customers/p1/points/accruals", purchase.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"event_id": "order-77", "points_awarded": 490, "points_capped": 0, "balance": 490, "tier": "potential"})
    );
    let again = app.post("/v1/customers/p1/points/accruals", purchase).await;
    assert_eq!(
        (again.status, again.body),
        (StatusCode::OK, r.body.clone()),
        "a retry answers the original result"
    );
    let changed = json!({"event_id": "order-77", "kind": "purchase", "amount_minor": 9999, "currency": "USD"});
    assert_problem(
        &app.post("/v1/customers/p1/points/accruals", changed).await,
        409,
        "conflict",
    );

    let gift =
        json!({"event_id": "gift-1", "kind": "gift", "amount_minor": 1000, "currency": "COIN"});
    assert_eq!(
        app.post("/v1/customers/p1/points/accruals", gift)
            .await
            .body["points_awarded"],
        100
    );
    let watch = json!({"event_id": "watch-1", "kind": "watch", "minutes": 45, "occurred_at": "2026-11-22T07:00:00Z"});
    assert_eq!(
        app.post("/v1/customers/p1/points/accruals", watch)
            .await
            .body["points_awarded"],
        4
    );
    let r = app.get("/v1/customers/p1/points").await;
    assert_eq!(
        (r.body["balance"].clone(), r.body["lifetime_earned"].clone()),
        (json!(594), json!(594))
    );
    assert!(
        r.body["next_expiry"]["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("2027-12-01"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get("/v1/customers/p1").await.body["points"]["balance"],
        594,
        "the profile shows points too"
    );
    assert!(
        app.get("/v1/customers/p1").await.body["last_active_at"].is_string(),
        "earning counts as activity"
    );

    let too_much = json!({"redemption_id": "red-0", "points": 10_000});
    let r = app
        .post("/v1/customers/p1/points/redemptions", too_much)
        .await;
    assert_problem(&r, 409, "insufficient-points");
    let redeem = json!({"redemption_id": "red-1", "points": 500, "reward": {"kind": "coupon", "value_minor": 500, "currency": "USD"}});
    let r = app
        .post("/v1/customers/p1/points/redemptions", redeem.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["points_spent"].clone(), r.body["balance"].clone()),
        (json!(500), json!(94))
    );
    let code = r.body["coupon"]["code"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post("/v1/customers/p1/points/redemptions", redeem)
            .await
            .body["coupon"]["code"],
        code.as_str()
    );

    let r = app.get(&format!("/v1/coupons/{code}")).await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["customer_id"].as_str()),
        (Some("active"), Some("p1"))
    );
    // A coupon is personal: the customer is required, and another customer's order cannot
    // use it (404, as for an unknown code) nor change it.
    let r = app
        .post(
            &format!("/v1/coupons/{code}/redemptions"),
            json!({"order_id": "o-1"}),
        )
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(r.body["errors"][0]["field"], "customer_id", "{}", r.body);
    assert_problem(
        &app.post(
            &format!("/v1/coupons/{code}/redemptions"),
            json!({"customer_id": "p2", "order_id": "o-1"}),
        )
        .await,
        404,
        "not-found",
    );
    assert_eq!(
        app.get(&format!("/v1/coupons/{code}")).await.body["status"],
        "active"
    );
    let typed = code.to_lowercase().replace('-', "");
    let r = app
        .post(
            &format!("/v1/coupons/{typed}/redemptions"),
            json!({"customer_id": "p1", "order_id": "o-1"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "codes may be typed in lower case without dashes: {}",
        r.body
    );
    assert_eq!(
        app.post(
            &format!("/v1/coupons/{code}/redemptions"),
            json!({"customer_id": "p1", "order_id": "o-1"})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_problem(
        &app.post(
            &format!("/v1/coupons/{code}/redemptions"),
            json!({"customer_id": "p1", "order_id": "o-2"}),
        )
        .await,
        409,
        "coupon-used",
    );
    assert_eq!(
        app.get(&format!("/v1/coupons/{code}")).await.body["status"],
        "redeemed"
    );

    // The ledger, newest first, two to a page.
    let r = app.get("/v1/customers/p1/points/ledger?limit=2").await;
    let seqs = |r: &Reply| {
        r.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(seqs(&r), [4, 3]);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(&format!(
            "/v1/customers/p1/points/ledger?limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(seqs(&r), [2, 1]);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let export = app.get("/v1/customers/p1/export").await;
    assert_eq!(export.body["ledger"].as_array().unwrap().len(), 4);
    assert_eq!(export.body["coupons"][0]["code"], code.as_str());
}

async fn bad_points_input_changes_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/p1", json!({})).await;
    let accrue = |body: Value| app.post("/v1/customers/p1/points/accruals", body);
    let cases: Vec<(Value, &[&str])> = vec![
        (
            json!({"event_id": "e", "kind": "purchase", "currency": "USD"}),
            &["amount_minor"],
        ),
        (
            json!({"event_id": "e", "kind": "purchase", "amount_minor": -1, "currency": "USD"}),
            &["amount_minor"],
        ),
        (
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 0, "currency": "USD"}),
            &["amount_minor"],
        ),
        (
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 1e30, "currency": "USD"}),
            &["amount_minor"],
        ),
        (
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 10.5, "currency": "USD"}),
            &["amount_minor"],
        ),
        (
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 100, "currency": "XTS"}),
            &["currency"],
        ),
        (
            json!({"event_id": "e", "kind": "purchase", "amount_minor": 100, "currency": "usd!"}),
            &["currency"],
        ),
        (
            json!({"event_id": "e", "kind": "lottery", "points": 5}),
            &["kind"],
        ),
        (
            json!({"event_id": "e", "kind": "bonus", "points": 2.5}),
            &["points"],
        ),
        (
            json!({"event_id": "e", "kind": "bonus", "points": 0}),
            &["points"],
        ),
        (
            json!({"event_id": "e", "kind": "bonus", "points": 10_000_000_000u64}),
            &["points"],
        ),
        (json!({"event_id": "e", "kind": "watch"}), &["minutes"]),
        (json!({"event_id": "e#1", "kind": "bonus"}), &["event_id"]),
        (json!({"kind": "bonus"}), &["event_id"]),
        (
            json!({"event_id": "e", "kind": "bonus", "occurred_at": "2099-01-01T00:00:00Z"}),
            &["occurred_at"],
        ),
        (
            json!({"event_id": "e", "kind": "bonus", "multiplier": 10}),
            &["multiplier"],
        ),
    ];
    for (body, expected) in cases {
        let r = accrue(body.clone()).await;
        assert_problem(&r, 422, "validation-error");
        assert_eq!(r.fields(), expected, "{body}");
    }
    let r = app
        .send(
            Method::POST,
            "/v1/customers/p1/points/accruals",
            Some("application/json"),
            b"{\"event_id\":".to_vec(),
            Some(&app.key.clone()),
        )
        .await;
    assert_problem(&r, 400, "malformed-json");
    assert_problem(
        &app.post(
            "/v1/customers/bad%20id/points/accruals",
            json!({"event_id": "e", "kind": "bonus"}),
        )
        .await,
        422,
        "validation-error",
    );
    assert_problem(
        &app.post(
            "/v1/customers/ghost/points/accruals",
            json!({"event_id": "e", "kind": "bonus"}),
        )
        .await,
        404,
        "not-found",
    );

    let redeem = |body: Value| app.post("/v1/customers/p1/points/redemptions", body);
    for (body, expected) in [
        (json!({"redemption_id": "r", "points": 0}), vec!["points"]),
        (json!({"redemption_id": "r", "points": -3}), vec!["points"]),
        (json!({"redemption_id": "r", "points": 1.5}), vec!["points"]),
        (json!({"redemption_id": "r"}), vec!["reward_id"]),
        (
            json!({"redemption_id": "r", "points": 5, "reward": {"kind": "cash", "value_minor": 5, "currency": "USD"}}),
            vec!["reward.kind"],
        ),
        (
            json!({"redemption_id": "r", "points": 5, "reward": {"kind": "coupon", "value_minor": 0, "currency": "USD"}}),
            vec!["reward.value_minor"],
        ),
    ] {
        let r = redeem(body.clone()).await;
        assert_problem(&r, 422, "validation-error");
        assert_eq!(r.fields(), expected, "{body}");
    }
    assert_problem(
        &redeem(json!({"redemption_id": "r", "points": 5})).await,
        409,
        "insufficient-points",
    );

    // Malformed is 422; well formed with a wrong check symbol (mistyped) is no coupon: 404.
    for (bad, status, kind) in [
        ("ABC", 422, "validation-error"),
        ("7K3M-Q9XA-2HCU", 422, "validation-error"),
        ("0000-0000-0001", 404, "not-found"),
    ] {
        assert_problem(&app.get(&format!("/v1/coupons/{bad}")).await, status, kind);
        assert_problem(
            &app.post(
                &format!("/v1/coupons/{bad}/redemptions"),
                json!({"customer_id": "p1", "order_id": "o"}),
            )
            .await,
            status,
            kind,
        );
    }
    assert_problem(
        &app.get("/v1/customers/p1/points/ledger?limit=0").await,
        422,
        "validation-error",
    );
    for forged in ["forged", "lc1.00", "lc1.zz", "lc2.000000000000002a"] {
        let r = app
            .get(&format!("/v1/customers/p1/points/ledger?cursor={forged}"))
            .await;
        assert_problem(&r, 422, "validation-error");
        assert_eq!(r.fields(), ["cursor"], "{forged}");
    }

    // Nothing of that was written.
    let r = app.get("/v1/customers/p1/points").await;
    assert_eq!(
        (r.body["balance"].clone(), r.body["lifetime_earned"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(
        app.get("/v1/customers/p1/points/ledger").await.body["entries"],
        json!([])
    );
    assert_eq!(
        app.get("/v1/customers/p1/export").await.body["coupons"],
        json!([])
    );
}
