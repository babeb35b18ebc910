//! Coupons on both stores: a customer's list (status, value, expiry, source campaign), a void
//! that makes a coupon unusable (once; a used one is not voided), a void racing a use (one
//! wins), the scopes that may void; on DynamoDB the coupon's `expires_at` is the number the
//! table's TTL reads, a grace period after its expiry.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, TestApp, both_stores, ts};
use serde_json::{Value, json};

both_stores!(
    coupons_are_listed_voided_once_and_never_used_after,
    a_void_racing_a_use_has_one_winner,
);

async fn customer_with_coupons(app: &TestApp, id: &str, n: usize) -> Vec<String> {
    let r = app
        .put(
            &format!("/v1/customers/{id}"),
            json!({"email": format!("{id}@example.com")}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .post(
            &format!("/v1/customers/{id}/points/accruals"),
            json!({"event_id": format!("{id}-o1"), "kind": "purchase", "amount_minor": 99_999, "currency": "USD"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut codes = Vec::new();
    for i in 0..n {
        let r = app
            .post(
                &format!("/v1/customers/{id}/points/redemptions"),
                json!({"redemption_id": format!("{id}-r{i}"), "points": 100,
                       "reward": {"kind": "coupon", "value_minor": 100, "currency": "USD"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        codes.push(r.body["coupon"]["code"].as_str().unwrap().to_owned());
    }
    codes
}

fn statuses(list: &Value) -> Vec<(String, String)> {
    list["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn use_coupon(app: &TestApp, code: &str, customer: &str, order: &str) -> (u16, Value) {
    let r = app
        .post(
            &format!("/v1/coupons/{code}/redemptions"),
            json!({"customer_id": customer, "order_id": order}),
        )
        .await;
    (r.status.as_u16(), r.body)
}

async fn coupons_are_listed_voided_once_and_never_used_after(b: Backend) {
    let app = TestApp::new(b).await;
    let codes = customer_with_coupons(&app, "c1", 2).await;
    let list = app.get("/v1/customers/c1/coupons").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let mut got = statuses(&list.body);
    got.sort();
    let mut want: Vec<(String, String)> = codes
        .iter()
        .map(|c| (c.clone(), "active".to_owned()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let first = &list.body["coupons"][0];
    assert_eq!(
        (
            &first["value_minor"],
            &first["currency"],
            &first["campaign"]
        ),
        (&json!(100), &json!("USD"), &Value::Null)
    );
    assert!(first["expires_at"].is_string() && first["source"].is_string());

    // Void: once; the second answers the same; a use after is refused.
    let v = app
        .post(&format!("/v1/coupons/{}/void", codes[0]), json!({}))
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert_eq!(v.body["status"], "voided");
    let again = app
        .post(&format!("/v1/coupons/{}/void", codes[0]), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["voided_at"], v.body["voided_at"]);
    let (status, body) = use_coupon(&app, &codes[0], "c1", "o-9").await;
    assert_eq!(status, 409, "{body}");
    assert!(body["type"].as_str().unwrap().ends_with("coupon-voided"));

    // A used coupon is not voided.
    assert_eq!(use_coupon(&app, &codes[1], "c1", "o-10").await.0, 201);
    app.post(&format!("/v1/coupons/{}/void", codes[1]), json!({}))
        .await
        .assert_problem(409, "coupon-used");
    let mut got = statuses(&app.get("/v1/customers/c1/coupons").await.body);
    got.sort();
    let mut want = vec![
        (codes[0].clone(), "voided".to_owned()),
        (codes[1].clone(), "redeemed".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want);

    // A campaign's coupon names its campaign.
    let r = app
        .put(
            "/v1/customers/bday",
            json!({"email": "bday@example.com", "birthday": "--11-22", "timezone": "UTC",
                   "consent": {"email_marketing": true}}),
        )
        .await;
    assert!(r.status.is_success());
    assert_eq!(
        app.run_campaign("birthday", "2026-11-22T10:00:00Z").await["sent"],
        1
    );
    let list = app.get("/v1/customers/bday/coupons").await.body;
    assert_eq!(list["coupons"][0]["campaign"], "birthday", "{list}");

    // Who may void: redeem or admin; a read key may not.
    let read = app.new_key(&["read"]).await;
    let r = app
        .send(
            Method::POST,
            &format!("/v1/coupons/{}/void", codes[0]),
            Some("application/json"),
            b"{}".to_vec(),
            Some(&read),
        )
        .await;
    r.assert_problem(403, "forbidden");
    assert_eq!(r.body["scope"], "redeem");
    app.post("/v1/coupons/7K3M-Q9XA-2HCT/void", json!({}))
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/customers/nobody/coupons")
        .await
        .assert_problem(404, "not-found");

    // On DynamoDB, TTL reads `expires_at` as epoch seconds: 90 days after the expiry.
    if let Backend::Dynamo(d) = &app.backend {
        let code = fanloop_domain::points::CouponCode::parse(&codes[1]).unwrap();
        let pk = format!("T#{}#COUPON#{}", app.tenant, code.as_str());
        let item = fanloop_tests::raw_item(d, pk, "COUPON").await.unwrap();
        let expires: jiff::Timestamp = list_expiry(&app, &codes[1]).await;
        let ttl: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
        assert_eq!(ttl, expires.as_second() + 90 * 86_400);
        assert!(item["valid_until"].as_s().is_ok());
    }
}

async fn list_expiry(app: &TestApp, code: &str) -> jiff::Timestamp {
    let list = app.get("/v1/customers/c1/coupons").await.body;
    let c = list["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap()
        .clone();
    ts(c["expires_at"].as_str().unwrap())
}

async fn a_void_racing_a_use_has_one_winner(b: Backend) {
    let app = TestApp::new(b).await;
    let codes = customer_with_coupons(&app, "racer", 6).await;
    for (i, code) in codes.iter().enumerate() {
        let order = format!("order-{i}");
        let void_uri = format!("/v1/coupons/{code}/void");
        let (void, used) = tokio::join!(
            app.post(&void_uri, json!({})),
            use_coupon(&app, code, "racer", &order)
        );
        let outcome = match (void.status.as_u16(), used.0) {
            (200, 409) => "voided",
            (409, 201) => "used",
            other => panic!(
                "{code}: both or neither won: {other:?} {} {}",
                void.body, used.1
            ),
        };
        let c = app.get(&format!("/v1/coupons/{code}")).await.body;
        let status = c["status"].as_str().unwrap();
        assert_eq!(
            status,
            if outcome == "voided" {
                "voided"
            } else {
                "redeemed"
            },
            "{c}"
        );
        assert!(
            c["voided_at"].is_null() || c["redeemed"].is_null(),
            "never both: {c}"
        );
    }
}
