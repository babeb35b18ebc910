//! The reward catalogue over HTTP on both stores: settings `rewards` validated by path, a
//! redeem key spends a reward (its coupon at the catalogue's value), free-form points need the
//! admin scope, refusals name the reason, `GET /v1/rewards` shows what is left.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, Reply, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    a_redeem_key_spends_catalogue_rewards_and_only_admin_names_points,
    the_catalogue_is_validated_and_listed_with_its_stock,
);

async fn as_key(app: &TestApp, key: &str, uri: &str, body: Value) -> Reply {
    app.send(
        Method::POST,
        uri,
        Some("application/json"),
        body.to_string().into_bytes(),
        Some(key),
    )
    .await
}

async fn setup(app: &TestApp) {
    let r = app
        .put(
            "/v1/settings",
            json!({"rewards": [
                {"reward_id": "skin", "name": "Gold skin", "points_cost": 300,
                 "coupon": {"value_minor": 500, "currency": "USD"}, "stock": 1},
                {"reward_id": "vip-pass", "name": "VIP pass", "points_cost": 100,
                 "coupon": {"value_minor": 900, "currency": "USD", "valid_days": 7},
                 "tiers": ["high-value"], "per_customer_limit": 1}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for id in ["c1", "c2"] {
        let r = app
            .put(
                &format!("/v1/customers/{id}"),
                json!({"email": "x@example.com"}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        let r = app
            .post(
                &format!("/v1/customers/{id}/points/accruals"),
                json!({"event_id": "seed", "kind": "bonus", "points": 800}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

async fn a_redeem_key_spends_catalogue_rewards_and_only_admin_names_points(b: Backend) {
    let app = TestApp::new(b).await;
    setup(&app).await;
    let redeem = app.new_key(&["redeem"]).await;
    let uri = "/v1/customers/c1/points/redemptions";
    let r = as_key(
        &app,
        &redeem,
        uri,
        json!({"redemption_id": "r1", "reward_id": "skin"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (
            &r.body["reward_id"],
            &r.body["points_spent"],
            &r.body["balance"],
            &r.body["coupon"]["value_minor"],
            &r.body["coupon"]["source"]
        ),
        (
            &json!("skin"),
            &json!(300),
            &json!(500),
            &json!(500),
            &json!("redemption:r1")
        )
    );
    let again = as_key(
        &app,
        &redeem,
        uri,
        json!({"redemption_id": "r1", "reward_id": "skin"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "a retry replays");
    assert_eq!(again.body, r.body);

    // The stock of 1 is taken: another customer is refused, and nothing is spent.
    let r = as_key(
        &app,
        &redeem,
        "/v1/customers/c2/points/redemptions",
        json!({"redemption_id": "r1", "reward_id": "skin"}),
    )
    .await;
    r.assert_problem(409, "reward-out-of-stock");
    assert_eq!(r.body["errors"][0]["field"], "reward_id");
    assert_eq!(
        app.get("/v1/customers/c2/points").await.body["balance"],
        800
    );
    // Not for this tier.
    as_key(
        &app,
        &redeem,
        uri,
        json!({"redemption_id": "r2", "reward_id": "vip-pass"}),
    )
    .await
    .assert_problem(409, "reward-not-for-tier");

    // Free-form points: a redeem key may not name them, an admin key may.
    let free = json!({"redemption_id": "r3", "points": 50,
                      "reward": {"kind": "coupon", "value_minor": 100000, "currency": "USD"}});
    let r = as_key(&app, &redeem, uri, free.clone()).await;
    r.assert_problem(403, "forbidden");
    assert_eq!(r.body["scope"], "admin");
    assert_eq!(
        app.get("/v1/customers/c1/points").await.body["balance"],
        500,
        "a refused request spends nothing"
    );
    let admin = app.new_key(&["admin"]).await;
    let r = as_key(&app, &admin, uri, free).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.get("reward_id").is_none(), "{}", r.body);

    // Bodies that do not say one thing.
    for (body, field) in [
        (json!({"redemption_id": "r4"}), "reward_id"),
        (
            json!({"redemption_id": "r4", "reward_id": "skin", "points": 5}),
            "reward_id",
        ),
        (
            json!({"redemption_id": "r4", "reward_id": "nope"}),
            "reward_id",
        ),
        (
            json!({"redemption_id": "r4", "reward_id": "Not An Id"}),
            "reward_id",
        ),
    ] {
        let r = as_key(&app, &redeem, uri, body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.body["errors"][0]["field"], field, "{body}: {}", r.body);
    }
    assert_eq!(
        app.get("/v1/customers/c1/points").await.body["balance"],
        450
    );
}

async fn the_catalogue_is_validated_and_listed_with_its_stock(b: Backend) {
    let app = TestApp::new(b).await;
    setup(&app).await;
    let r = app
        .put(
            "/v1/settings",
            json!({"rewards": [
                {"reward_id": "a", "name": "A", "points_cost": 0,
                 "coupon": {"value_minor": 5, "currency": "USD"}, "tiers": ["gold"]}
            ]}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["rewards[0].points_cost", "rewards[0].tiers"]);
    let r = app
        .put(
            "/v1/settings",
            json!({"rewards": [{"reward_id": "a", "name": "A", "points_cost": 1, "coupon": {"currency": "USD"}}]}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert!(
        r.body["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("rewards[0].coupon"),
        "{}",
        r.body
    );

    let read = app.new_key(&["read"]).await;
    let r = as_key(
        &app,
        &read,
        "/v1/customers/c1/points/redemptions",
        json!({"redemption_id": "r1", "reward_id": "skin"}),
    )
    .await;
    r.assert_problem(403, "forbidden");
    assert_eq!(r.body["scope"], "redeem");
    app.post(
        "/v1/customers/c1/points/redemptions",
        json!({"redemption_id": "r1", "reward_id": "skin"}),
    )
    .await;
    let list = app
        .send(Method::GET, "/v1/rewards", None, Vec::new(), Some(&read))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let rewards = list.body["rewards"].as_array().unwrap();
    assert_eq!(rewards.len(), 2);
    assert_eq!(
        (
            &rewards[0]["reward_id"],
            &rewards[0]["redeemed"],
            &rewards[0]["remaining"]
        ),
        (&json!("skin"), &json!(1), &json!(0))
    );
    assert_eq!(rewards[1]["reward_id"], "vip-pass");
    assert!(
        rewards[1].get("remaining").is_none(),
        "no stock, nothing counted"
    );
    assert_eq!(rewards[1]["coupon"]["valid_days"], 7);
}
