//! Tenant analytics over HTTP on both stores, with a controlled clock over several days and in
//! two time zones: every figure is the sum of what the test sent, the liability at each day's
//! end is issued − redeemed − expired − reversed (+ adjusted), the top items and streamers
//! rank what was bought and gifted, tiers and lifecycle moves and churn traits come from the
//! daily snapshot on a population whose answer is known, and bad ranges are refused.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

both_stores!(
    overview_adds_up_over_days_in_two_zones,
    items_and_streamers_rank_what_was_bought_and_gifted,
    snapshot_finds_tiers_segments_churn_traits_and_stage_moves,
    bad_ranges_and_limits_are_refused,
);

/// Sets the clock to a local wall time in `tz`.
fn at(app: &TestApp, tz: &str, local: &str) {
    let dt: DateTime = local.parse().unwrap();
    let z = dt.to_zoned(TimeZone::get(tz).unwrap()).unwrap();
    app.clock.set(z.timestamp());
}

async fn created(app: &TestApp, uri: &str, body: Value) -> Value {
    let r = app.post(uri, body).await;
    assert!(r.status.is_success(), "{uri}: {} {}", r.status, r.body);
    r.body
}

fn day<'a>(o: &'a Value, d: &str) -> &'a Value {
    o["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["day"] == d)
        .unwrap_or_else(|| panic!("{d} missing in {o}"))
}

async fn overview_adds_up_over_days_in_two_zones(b: Backend) {
    for tz in ["America/Los_Angeles", "Asia/Tokyo"] {
        let app = TestApp::new(b.clone()).await;
        at(&app, tz, "2026-11-19T12:00");
        assert_eq!(
            app.put("/v1/settings", json!({"timezone": tz}))
                .await
                .status,
            StatusCode::OK
        );
        for c in ["a", "b", "c"] {
            app.put(&format!("/v1/customers/{c}"), json!({})).await;
        }
        // Day 1 (the 20th, local): a and b buy, a gifts; one purchase at 23:30 local, which
        // is the next day in UTC for Los Angeles and still the 20th here.
        at(&app, tz, "2026-11-20T10:00");
        let p1 = created(&app, "/v1/customers/a/points/accruals", json!({"event_id": "o1", "kind": "purchase", "amount_minor": 1999, "currency": "USD", "item": {"sku": "pass"}})).await;
        let g1 = created(&app, "/v1/customers/a/points/accruals", json!({"event_id": "g1", "kind": "gift", "amount_minor": 100, "currency": "COIN", "streamer_id": "luna"})).await;
        at(&app, tz, "2026-11-20T23:30");
        let p2 = created(&app, "/v1/customers/b/points/accruals", json!({"event_id": "o2", "kind": "purchase", "amount_minor": 500, "currency": "USD", "item": {"sku": "gems"}})).await;
        let p3 = created(
            &app,
            "/v1/customers/b/points/accruals",
            json!({"event_id": "o3", "kind": "purchase", "amount_minor": 300, "currency": "EUR"}),
        )
        .await;
        // Day 2: a redeems, b logs in (returning), c watches (new).
        at(&app, tz, "2026-11-21T09:00");
        created(
            &app,
            "/v1/customers/a/points/redemptions",
            json!({"redemption_id": "r1", "points": 50}),
        )
        .await;
        created(
            &app,
            "/v1/customers/b/events",
            json!({"event_id": "e1", "kind": "login"}),
        )
        .await;
        let w1 = created(
            &app,
            "/v1/customers/c/points/accruals",
            json!({"event_id": "w1", "kind": "watch", "minutes": 30, "streamer_id": "luna"}),
        )
        .await;
        // Day 3: b's USD purchase is refunded; support gives a 20 points.
        at(&app, tz, "2026-11-22T08:00");
        let rv = created(
            &app,
            "/v1/customers/b/points/reversals",
            json!({"reversal_id": "rf1", "event_id": "o2", "reason": "refund"}),
        )
        .await;
        created(
            &app,
            "/v1/customers/a/points/adjustments",
            json!({"adjustment_id": "ad1", "points": 20, "reason": "goodwill", "actor": "agent-7"}),
        )
        .await;
        // Day 4: nothing; the report runs then.
        at(&app, tz, "2026-11-23T12:00");

        let pts = |v: &Value| v["points_awarded"].as_i64().unwrap();
        let issued1 = pts(&p1) + pts(&g1) + pts(&p2) + pts(&p3);
        let issued2 = pts(&w1);
        let reversed3 = -rv["points"].as_i64().unwrap();
        assert!(issued1 > 0 && issued2 > 0 && reversed3 == pts(&p2), "{rv}");

        let r = app
            .get("/v1/analytics/overview?from=2026-11-19&to=2026-11-23")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let o = r.body;
        assert_eq!(o["days"].as_array().unwrap().len(), 5, "every day present");
        assert_eq!(o["timezone"], tz);
        let d0 = day(&o, "2026-11-19");
        assert_eq!(
            (d0["active"].clone(), d0["liability"].clone()),
            (json!(0), json!(0))
        );
        let d1 = day(&o, "2026-11-20");
        assert_eq!(d1["purchases"], 3, "{tz}: {d1}");
        assert_eq!(d1["revenue"], json!({"USD": 2499, "EUR": 300}));
        assert_eq!(
            (d1["active"].clone(), d1["new"].clone()),
            (json!(2), json!(2))
        );
        assert_eq!(d1["gifts"], 1);
        assert_eq!(d1["gift_coins"], json!({"COIN": 100}));
        assert_eq!(d1["new_gifters"], 1);
        assert_eq!(d1["points_issued"], issued1);
        assert_eq!(d1["liability"], issued1);
        let d2 = day(&o, "2026-11-21");
        assert_eq!(
            (
                d2["active"].clone(),
                d2["new"].clone(),
                d2["returning"].clone()
            ),
            (json!(2), json!(1), json!(1)),
            "b returning by login, c new by watching; a's redemption is no activity: {d2}"
        );
        assert_eq!(d2["points_redeemed"], 50);
        assert_eq!(d2["watch_minutes"], 30);
        assert_eq!(d2["events"], json!({"login": 1}));
        assert_eq!(d2["liability"], issued1 + issued2 - 50);
        let d3 = day(&o, "2026-11-22");
        assert_eq!(
            d3["purchases"], -1,
            "the refund takes the purchase back on its day"
        );
        assert_eq!(d3["revenue"], json!({"USD": -500}));
        assert_eq!(
            (d3["points_reversed"].clone(), d3["points_adjusted"].clone()),
            (json!(reversed3), json!(20))
        );
        assert_eq!(d3["reversals"], 1);
        let end = issued1 + issued2 - 50 - reversed3 + 20;
        assert_eq!(d3["liability"], end);
        assert_eq!(day(&o, "2026-11-23")["liability"], end);
        assert_eq!(o["liability"], end);
        let t = &o["totals"];
        assert_eq!(t["purchases"], 2);
        assert_eq!(t["revenue"], json!({"USD": 1999, "EUR": 300}));
        assert_eq!(t["points_issued"], issued1 + issued2);
        // The sum of the balances is the liability.
        let mut balances = 0;
        for c in ["a", "b", "c"] {
            balances += app.get(&format!("/v1/customers/{c}/points")).await.body["balance"]
                .as_i64()
                .unwrap();
        }
        assert_eq!(balances, end);

        // A range ending before today: the liability at its end is still exact.
        let early = app
            .get("/v1/analytics/overview?from=2026-11-20&to=2026-11-20")
            .await
            .body;
        assert_eq!(early["liability"], issued1);
        assert_eq!(early["days"].as_array().unwrap().len(), 1);

        // Retried writes count nothing twice.
        created(&app, "/v1/customers/a/points/accruals", json!({"event_id": "o1", "kind": "purchase", "amount_minor": 1999, "currency": "USD", "item": {"sku": "pass"}})).await;
        created(
            &app,
            "/v1/customers/b/events",
            json!({"event_id": "e1", "kind": "login"}),
        )
        .await;
        let again = app
            .get("/v1/analytics/overview?from=2026-11-19&to=2026-11-23")
            .await
            .body;
        assert_eq!(again["totals"], o["totals"]);

        // Erasure: the figures stay, and no analytics row names the customer.
        assert_eq!(
            app.json(axum::http::Method::DELETE, "/v1/customers/a", None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let after = app
            .get("/v1/analytics/overview?from=2026-11-19&to=2026-11-23")
            .await
            .body;
        assert_eq!(after["totals"]["revenue"], o["totals"]["revenue"]);
    }
}

async fn items_and_streamers_rank_what_was_bought_and_gifted(b: Backend) {
    let app = TestApp::new(b).await;
    app.put(
        "/v1/settings",
        json!({"rfm": {"currency": "USD", "rates": {"EUR": {"per": 100, "minor": 110}}}}),
    )
    .await;
    for c in ["a", "b", "c"] {
        app.put(&format!("/v1/customers/{c}"), json!({})).await;
    }
    let buy = |id: &str, sku: &str, amount: u64, cur: &str| {
        json!({"event_id": id, "kind": "purchase", "amount_minor": amount, "currency": cur,
               "item": {"sku": sku, "name": format!("The {sku}"), "category": "skins"}})
    };
    // `pass`: 2 buyers, 3 purchases (a twice), 3000 USD; `gems`: 1 buyer, 2000 EUR = 2200 USD.
    created(
        &app,
        "/v1/customers/a/points/accruals",
        buy("1", "pass", 1000, "USD"),
    )
    .await;
    created(
        &app,
        "/v1/customers/a/points/accruals",
        buy("2", "pass", 1000, "USD"),
    )
    .await;
    created(
        &app,
        "/v1/customers/b/points/accruals",
        buy("3", "pass", 1000, "USD"),
    )
    .await;
    created(
        &app,
        "/v1/customers/c/points/accruals",
        buy("4", "gems", 2000, "EUR"),
    )
    .await;
    let gift = |id: &str, s: &str, coins: u64| json!({"event_id": id, "kind": "gift", "amount_minor": coins, "currency": "COIN", "streamer_id": s});
    created(
        &app,
        "/v1/customers/a/points/accruals",
        gift("g1", "luna", 500),
    )
    .await;
    created(
        &app,
        "/v1/customers/b/points/accruals",
        gift("g2", "luna", 100),
    )
    .await;
    created(
        &app,
        "/v1/customers/b/points/accruals",
        gift("g3", "sol", 900),
    )
    .await;
    created(&app, "/v1/customers/c/events", json!({"event_id": "w", "kind": "stream_watch", "properties": {"streamer_id": "sol", "minutes": 45}})).await;

    let r = app.get("/v1/analytics/items?limit=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let by_rev: Vec<(String, i64)> = r.body["by_revenue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["sku"].as_str().unwrap().to_owned(),
                i["revenue_reporting"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_rev, vec![("pass".into(), 3000), ("gems".into(), 2200)]);
    let pass = &r.body["by_buyers"][0];
    assert_eq!(
        (
            pass["sku"].clone(),
            pass["buyers"].clone(),
            pass["purchases"].clone(),
            pass["name"].clone(),
            pass["category"].clone()
        ),
        (
            json!("pass"),
            json!(2),
            json!(3),
            json!("The pass"),
            json!("skins")
        )
    );
    let top1 = app.get("/v1/analytics/items?limit=1").await.body;
    assert_eq!(top1["by_revenue"].as_array().unwrap().len(), 1);

    let s = app.get("/v1/analytics/streamers").await.body;
    let first = |k: &str| s[k][0]["streamer_id"].clone();
    assert_eq!(first("by_gift_coins"), "sol");
    assert_eq!(first("by_gifters"), "luna");
    assert_eq!(first("by_watch_minutes"), "sol");
    let luna = s["by_gifters"][0].clone();
    assert_eq!(
        (
            luna["gifts"].clone(),
            luna["gifters"].clone(),
            luna["gift_coins"].clone(),
            luna["new_gifters"].clone()
        ),
        (json!(2), json!(2), json!({"COIN": 600}), json!(2)),
        "a's and b's first gifts both went to luna"
    );
    let sol = s["by_gift_coins"][0].clone();
    assert_eq!(
        (sol["new_gifters"].clone(), sol["watch_minutes"].clone()),
        (json!(0), json!(45))
    );
}

async fn snapshot_finds_tiers_segments_churn_traits_and_stage_moves(b: Backend) {
    let app = TestApp::new(b).await;
    let before = app.get("/v1/analytics/churn").await.body;
    assert_eq!(before["as_of"], Value::Null, "no snapshot yet");
    // 2026-06-01: 4 customers join on ios and 2 on android; the android ones and one ios
    // customer never come back, so 90 days later (churn after 60 idle days) 3 of 3 churned
    // are... 1 ios + 2 android, and the 3 retained are all ios.
    app.clock.set("2026-06-01T10:00:00Z".parse().unwrap());
    for (c, platform) in [
        ("i1", "ios"),
        ("i2", "ios"),
        ("i3", "ios"),
        ("i4", "ios"),
        ("d1", "android"),
        ("d2", "android"),
    ] {
        let r = app
            .put(
                &format!("/v1/customers/{c}"),
                json!({"identities": [{"platform": platform, "external_id": format!("x-{c}")}]}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        created(
            &app,
            &format!("/v1/customers/{c}/activities"),
            json!({"kind": "login"}),
        )
        .await;
    }
    // One churned (d1) and one retained (i1) customer answer NPS that day.
    for (id, c) in [("n1", "d1"), ("n2", "i1")] {
        created(
            &app,
            "/v1/surveys/onboarding/responses",
            json!({"response_id": id, "customer_id": c, "nps": 8}),
        )
        .await;
    }
    created(
        &app,
        "/v1/surveys/onboarding/responses",
        json!({"response_id": "n3", "customer_id": "i2", "csat": 4}),
    )
    .await;
    let first = created(&app, "/v1/analytics/snapshots", json!({})).await;
    assert_eq!(first["customers"], 6);
    let lc = app.get("/v1/analytics/lifecycle").await.body;
    assert_eq!(lc["distribution"], json!({"acquisition": 6}));
    assert_eq!(lc["moves"], json!([]), "first sight is no move");

    app.clock.set("2026-08-20T10:00:00Z".parse().unwrap());
    for c in ["i1", "i2", "i3"] {
        created(
            &app,
            &format!("/v1/customers/{c}/activities"),
            json!({"kind": "login"}),
        )
        .await;
    }
    app.clock.set("2026-08-30T10:00:00Z".parse().unwrap());
    let snap = created(&app, "/v1/analytics/snapshots", json!({})).await;
    assert_eq!(snap["day"], "2026-08-30");
    // A rerun the same day replaces the snapshot and counts no move twice.
    created(&app, "/v1/analytics/snapshots", json!({})).await;

    let churn = app.get("/v1/analytics/churn").await.body;
    assert_eq!(
        (churn["churned"].clone(), churn["retained"].clone()),
        (json!(3), json!(3)),
        "{churn}"
    );
    let row = |t: &str, v: &str| {
        churn["traits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["trait"] == t && r["value"] == v)
            .cloned()
            .unwrap_or_else(|| panic!("{t}={v} missing: {churn}"))
    };
    let android = row("platform", "android");
    assert_eq!(
        (
            android["churned"].clone(),
            android["retained"].clone(),
            android["churned_permille"].clone(),
            android["ratio"].clone()
        ),
        (json!(2), json!(0), json!(666), Value::Null)
    );
    let ios = row("platform", "ios");
    assert_eq!(
        (
            ios["churned"].clone(),
            ios["retained"].clone(),
            ios["ratio"].clone()
        ),
        (json!(1), json!(3), json!(0.33))
    );
    assert_eq!(
        churn["traits"][0]["value"], "android",
        "the most over-represented first"
    );

    let lc = app
        .get("/v1/analytics/lifecycle?from=2026-08-01&to=2026-08-30")
        .await
        .body;
    assert_eq!(lc["distribution"], json!({"churn": 3, "growth": 3}), "{lc}");
    // Staff list the same customers the snapshot counted.
    let listed = |q: &'static str| {
        let app = &app;
        async move {
            let body = app.get(&format!("/v1/customers?{q}")).await.body;
            body["customers"]
                .as_array()
                .unwrap_or_else(|| panic!("{q}: {body}"))
                .iter()
                .map(|c| c["customer_id"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("lifecycle=churn").await, ["d1", "d2", "i4"]);
    assert_eq!(listed("lifecycle=growth").await, ["i1", "i2", "i3"]);
    assert!(
        listed("lifecycle=acquisition").await.is_empty(),
        "moved out"
    );
    assert_eq!(
        lc["moves"],
        json!([{"from": "acquisition", "to": "churn", "customers": 3},
               {"from": "acquisition", "to": "growth", "customers": 3}])
    );
    let rfm = app.get("/v1/analytics/rfm").await.body;
    let total: u64 = rfm["segments"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 6);
    let tiers = app
        .get("/v1/analytics/tiers?from=2026-06-01&to=2026-08-30")
        .await
        .body;
    let in_tiers: u64 = tiers["distribution"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(in_tiers, 6, "{tiers}");
    assert!(tiers["as_of"].is_string());
}

async fn bad_ranges_and_limits_are_refused(b: Backend) {
    let app = TestApp::new(b).await;
    for (uri, field) in [
        (
            "/v1/analytics/overview?from=2025-01-01&to=2026-11-22",
            "from",
        ),
        (
            "/v1/analytics/overview?from=2026-11-23&to=2026-11-22",
            "from",
        ),
        ("/v1/analytics/overview?from=2026-2-1", "from"),
        ("/v1/analytics/overview?to=yesterday", "to"),
        ("/v1/analytics/tiers?to=2026-13-01", "to"),
        ("/v1/analytics/items?limit=0", "limit"),
        ("/v1/analytics/items?limit=101", "limit"),
        ("/v1/analytics/streamers?limit=ten", "limit"),
        ("/v1/analytics/overview?to=2026-11-01&to=2026-11-02", "to"),
    ] {
        let r = app.get(uri).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), vec![field.to_owned()], "{uri}: {}", r.body);
    }
    let r = app
        .send(
            axum::http::Method::GET,
            "/v1/analytics/overview",
            None,
            vec![],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let ok = app
        .get("/v1/analytics/overview?from=2025-11-22&to=2026-11-22")
        .await;
    assert_eq!(ok.body["days"].as_array().unwrap().len(), 366);
}
